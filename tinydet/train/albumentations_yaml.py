"""An albumentations pipeline written as a YAML list, for ultralytics' own `augmentations` train argument.

ultralytics 8.4.190 runs an `Albumentations` step after mosaic/affine/mixup (ultralytics/data/augment.py,
`v8_transforms`). Its `augmentations` argument replaces that step's default transforms by a list of
albumentations transforms; when one of them is spatial (a DualTransform) ultralytics composes them with
`BboxParams(format="yolo")` and keypoint handling, so boxes (and pose keypoints) follow flips, rotations and
affine warps, and boxes pushed out of the image are dropped. The trainer stores the list with `A.to_dict`, so
it survives checkpoints, resume and DDP. tinydet only turns the YAML into transforms and hands them over.

The YAML is a list; each item names one transform, with its arguments as a mapping (or nothing, for the
defaults). Compositions (OneOf, SomeOf, Sequential, OneOrOther) take `transforms:`, a list of the same form:

    - CLAHE: {clip_limit: 2.0, p: 0.1}
    - GaussianBlur: {blur_limit: [3, 5], p: 0.1}
    - GaussNoise: {std_range: [0.02, 0.1], p: 0.1}
    - RandomBrightnessContrast: {p: 0.3}
    - OneOf:
        p: 0.2
        transforms: [{MotionBlur: {p: 1}}, {MedianBlur: {blur_limit: 3, p: 1}}]
    - HorizontalFlip
    - Affine: {rotate: [-10, 10], p: 0.3}

Note: with albumentations installed and no list given, ultralytics applies its own defaults (Blur, MedianBlur,
ToGray and CLAHE at p = 0.01); a list given here replaces them entirely.
"""

from __future__ import annotations

import difflib
import warnings
from pathlib import Path
from typing import Any

import yaml

from tinydet.errors import TinydetError

COMPOSITIONS = ("OneOf", "SomeOf", "Sequential", "OneOrOther")
_REFUSED = {"Lambda": "A.Lambda cannot be stored in checkpoints (ultralytics refuses it)",
            "Compose": "ultralytics composes the list itself; use Sequential to group transforms"}


def load_spec(spec: str | Path | list, source: str = "albumentations") -> tuple[list, str]:
    """The transform list of `spec` (a YAML file path, or the list itself) and a name for error messages."""
    if isinstance(spec, list):
        return spec, source
    path = Path(spec).expanduser()
    if not path.is_file():
        raise TinydetError(f"albumentations pipeline file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise TinydetError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(data, list):
        raise TinydetError(f"{path}: an albumentations pipeline is a YAML list of transforms")
    return data, str(path)


def _item(item: Any, where: str) -> tuple[str, dict]:
    """(name, arguments) of one list item: 'Name' or {Name: {args} or null}."""
    if isinstance(item, str):
        return item, {}
    if isinstance(item, dict) and len(item) == 1:
        (name, args), = item.items()
        if args is None:
            args = {}
        if isinstance(name, str) and isinstance(args, dict):
            return name, dict(args)
    raise TinydetError(f"{where}: expected a transform name or {{Name: {{argument: value, ...}}}}, got {item!r}")


def _albumentations():
    try:
        import albumentations as A  # noqa: N812
    except ImportError:
        raise TinydetError(
            "the albumentations option needs the albumentations package (pip install albumentations); note that "
            "once it is installed ultralytics also applies its own default albumentations transforms"
        ) from None
    return A


def build_transforms(spec: str | Path | list, source: str = "albumentations") -> list:
    """Albumentations transform objects for ultralytics' `augmentations` argument, from a YAML list or its path.

    Every problem (unknown name, bad argument, wrong structure) is a TinydetError naming the file and item; the
    structure is checked before albumentations is imported.
    """
    items, where = load_spec(spec, source)
    nodes = _parse_list(items, where)
    A = _albumentations()  # noqa: N806
    return [_make(node, A) for node in nodes]


def _parse_list(items: list, where: str) -> list[tuple]:
    """[(name, args, children or None, where)] with compositions' `transforms:` parsed the same way."""
    if not items:
        raise TinydetError(f"{where}: the list of transforms is empty")
    nodes = []
    for i, item in enumerate(items):
        here = f"{where}: item {i + 1}"
        name, args = _item(item, here)
        children = args.pop("transforms", None)
        if children is not None:
            if not isinstance(children, list):
                raise TinydetError(f"{here}: {name}'s 'transforms:' must be a list of transforms")
            children = _parse_list(children, f"{here} ({name})")
        nodes.append((name, args, children, here))
    return nodes


def _make(node: tuple, A):  # noqa: N803
    name, args, children, where = node
    if name in _REFUSED:
        raise TinydetError(f"{where}: {name} is not allowed: {_REFUSED[name]}")
    cls = getattr(A, name, None)
    is_transform = isinstance(cls, type) and issubclass(cls, A.BasicTransform)
    is_composition = isinstance(cls, type) and issubclass(cls, A.BaseCompose)
    if not (is_transform or is_composition):
        known = [n for n in dir(A) if isinstance(getattr(A, n), type) and issubclass(getattr(A, n), A.BasicTransform)]
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise TinydetError(f"{where}: albumentations {A.__version__} has no transform '{name}'{hint}")
    args = dict(args)
    if is_composition:
        if children is None:
            raise TinydetError(f"{where}: {name} needs 'transforms:', a list of transforms")
        args["transforms"] = [_make(child, A) for child in children]
    elif children is not None:
        raise TinydetError(f"{where}: {name} is not a composition; only {', '.join(COMPOSITIONS)} take 'transforms:'")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            built = cls(**args)
    except Exception as e:  # albumentations validates with pydantic (ValidationError) or plain TypeError
        first = " ".join(str(e).split())[:300]
        raise TinydetError(f"{where}: {name}({', '.join(map(str, args))}): {first}") from None
    for w in caught:
        if "not valid" in str(w.message):  # albumentations 2 ignores unknown arguments with a warning
            raise TinydetError(f"{where}: {name}({', '.join(map(str, args))}): {w.message}")
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return built
