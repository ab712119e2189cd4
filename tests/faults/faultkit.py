"""What the fault tests share: checksums of an input tree."""

from __future__ import annotations

import hashlib
from pathlib import Path


def tree_checksums(root: Path) -> dict[str, str]:
    """sha256 of every file below root, by relative path (a lost or changed file shows as a difference)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}
