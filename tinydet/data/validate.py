"""Validation: the problems a dataset can have, found while reading it, each located by file and line.

Every reader reports what it finds to a `ProblemLog` and skips the bad item (a line / box, or a whole image):
`load_dataset` then stops on the first fatal problem, or, with `skip_bad`, warns and goes on without the
skipped items. `analyze` lists them all. The box checks that do not depend on the file format live here as
pure functions on pixel boxes (`check_boxes`); the format readers add their own (column counts, numbers,
normalised ranges).

Fatal problems (kinds): missing_image, corrupt_image, missing_labels_file (a referenced annotation file that
does not exist), columns, not_a_number, out_of_range, bad_size, class_id, size_mismatch, bad_file, reference.
Warnings (the data is used, adjusted as said): missing_labels (an image without a label file: background),
duplicate (removed), clipped (a box crossing the image edge, clipped to it), jpeg_end (JPEG without an end
marker that still decodes), orphan_label (a label file without an image: ignored), duplicate_image (an image
listed twice: read once; training still samples it as often as it is listed, unless a cleaned copy is
written).
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from tinydet.data.dataset import ImageLabels
from tinydet.errors import DataError

#: Box corners may cross the image edge by this much (pixels) without a warning; they are kept as labelled.
#: Beyond it a box is clipped to the image, with a warning.
EDGE_TOLERANCE_PX = 0.01


class DataWarning(UserWarning):
    """A problem in a dataset that tinydet worked around (the message says how)."""


@dataclass(frozen=True)
class Problem:
    """One problem: what kind, a message a user can act on, where (file and 1-based line, when there is one)."""

    kind: str
    message: str
    file: str | None = None
    line: int | None = None
    fatal: bool = True

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "
        return where + self.message

    def error(self) -> DataError:
        return DataError(self.message, self.file, self.line)


class ProblemLog:
    """Collects problems while a dataset is read.

    With `strict=True` the first fatal problem raises its DataError at once (the old behaviour of the YOLO
    reader), and warnings are issued as `DataWarning`s when `warn()` is called.
    """

    def __init__(self, strict: bool = False):
        self.strict = strict
        self.problems: list[Problem] = []

    def add(self, kind: str, message: str, file=None, line: int | None = None, fatal: bool = True) -> Problem:
        problem = Problem(kind, message, None if file is None else str(file), line, fatal)
        if self.strict and fatal:
            raise problem.error()
        self.problems.append(problem)
        return problem

    @property
    def fatal(self) -> list[Problem]:
        return [p for p in self.problems if p.fatal]

    def warn(self, skipped: bool = True) -> None:
        """One DataWarning per kind of problem: how many, and the first one."""
        for text in summarize(self.problems, skipped=skipped):
            warnings.warn(text, DataWarning, stacklevel=3)


def summarize(problems: list[Problem], skipped: bool = True, examples: int = 1) -> list[str]:
    """One line per kind: 'N problems of this kind (what was done), e.g. FILE:LINE: message'."""
    lines = []
    by_kind: dict[str, list[Problem]] = {}
    for p in problems:
        by_kind.setdefault(p.kind, []).append(p)
    for kind, group in by_kind.items():
        if group[0].fatal:
            action = "skipped" if skipped else "fatal"
        else:
            action = "worked around"
        shown = "; ".join(str(p) for p in group[:examples])
        more = f" (and {len(group) - examples} more)" if len(group) > examples else ""
        lines.append(f"{len(group)} x {kind} [{action}]: {shown}{more}")
    return lines


def fatal_error(problems: list[Problem]) -> DataError:
    """The DataError for the first fatal problem, noting how many more there are."""
    fatal = [p for p in problems if p.fatal]
    first = fatal[0]
    extra = ""
    if len(fatal) > 1:
        kinds = Counter(p.kind for p in fatal[1:])
        more = len(fatal) - 1
        extra = f" (and {more} more problem{'s' if more > 1 else ''}: " + ", ".join(
            f"{n} x {k}" for k, n in kinds.items()) + ")"
    hint = "; `tinydet analyze` lists them all, --skip-bad skips the bad lines and images"
    return DataError(first.message + extra + hint, first.file, first.line)


# ------------------------------------------------------------------------------------------------------------------
# Box checks (pure)
# ------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BoxIssue:
    """A problem with box `index` of an image (fatal issues drop the box)."""

    index: int
    kind: str
    message: str
    fatal: bool = True


def check_boxes(
    boxes: np.ndarray,
    classes: np.ndarray,
    width: int,
    height: int,
    nc: int,
    ignore: np.ndarray | None = None,
    keypoints: np.ndarray | None = None,
) -> tuple[list[BoxIssue], np.ndarray, np.ndarray]:
    """Check the boxes of one image.

    Args:
        boxes: float64 [N, 4] x1, y1, x2, y2 in pixels.
        classes: int64 [N] class indices; -1 is allowed for ignore regions that apply to every class.
        width, height: image size in pixels.
        nc: number of classes.
        ignore: bool [N] or None.
        keypoints: float64 [N, K, 3] or None (part of the duplicate test, as ultralytics does).

    Returns:
        (issues, keep, fixed): issues in box order; keep, a bool [N] mask of the boxes to keep (fatal issues and
        duplicates removed); fixed, float64 [N, 4] boxes, clipped to the image where they cross its edge by more
        than EDGE_TOLERANCE_PX.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    n = len(boxes)
    ignore = np.zeros(n, bool) if ignore is None else np.asarray(ignore, bool)
    issues: list[BoxIssue] = []
    keep = np.ones(n, bool)
    if n == 0:
        return issues, keep, boxes.copy()
    classes = np.asarray(classes, np.int64).reshape(-1)
    clipped = boxes.copy()
    clipped[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width)
    clipped[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height)
    with np.errstate(invalid="ignore"):
        x1, y1, x2, y2 = boxes.T
        bw, bh = x2 - x1, y2 - y1
        non_finite = ~np.isfinite(boxes).all(1)
        no_size = ~non_finite & ((bw <= 0) | (bh <= 0))
        bad_class = ~((classes >= 0) & (classes < nc)) & ~((classes == -1) & ignore)
        outside = (x2 <= 0) | (y2 <= 0) | (x1 >= width) | (y1 >= height)
        no_area = (clipped[:, 2] <= clipped[:, 0]) | (clipped[:, 3] <= clipped[:, 1])
        cross = np.abs(clipped - boxes).max(1) > EDGE_TOLERANCE_PX
    # Within the tolerance a box is kept as labelled (6-decimal labels overshoot the edge by ~1e-6 of the image),
    # so that converting a dataset and back gives the same lines.
    fixed = np.where(cross[:, None], clipped, boxes)
    for i in np.flatnonzero(non_finite | no_size | bad_class | outside | no_area | cross).tolist():
        box = _fmt(boxes[i])
        if non_finite[i]:
            issue = BoxIssue(i, "not_a_number", f"box {box} has a non-finite coordinate")
        elif no_size[i]:
            issue = BoxIssue(i, "bad_size", f"box has zero or negative size ({bw[i]:.4g} x {bh[i]:.4g} px)")
        elif bad_class[i]:
            valid = f"0-{nc - 1}" if nc else "none"
            issue = BoxIssue(i, "class_id", f"class id {classes[i]} is not in names (valid: {valid})")
        elif outside[i]:
            issue = BoxIssue(i, "out_of_range", f"box {box} px lies outside the {width}x{height} image")
        elif no_area[i]:
            issue = BoxIssue(i, "bad_size", f"box {box} px has no area inside the image")
        else:
            issue = BoxIssue(i, "clipped", f"box {box} px crosses the edge of the {width}x{height} image; "
                             "clipped to it", fatal=False)
        issues.append(issue)
        keep[i] = not issue.fatal
    issues.extend(_duplicates(fixed, classes, ignore, keypoints, keep))
    for issue in issues:
        if issue.kind == "duplicate":
            keep[issue.index] = False
    issues.sort(key=lambda issue: issue.index)
    return issues, keep, fixed


def _duplicates(boxes, classes, ignore, keypoints, keep) -> list[BoxIssue]:
    """Exact repeats (same class, box, ignore flag and keypoints, to 1e-6 px) of an earlier kept box."""
    idx = np.flatnonzero(keep).tolist()
    if len(idx) < 2:
        return []
    rows = np.round(boxes, 6).tolist()
    kps = None if keypoints is None else np.round(keypoints.reshape(len(boxes), -1), 6).tolist()
    seen, issues = set(), []
    for i in idx:  # a set of tuples: faster than np.unique(axis=0) for the few boxes of one image
        key = (int(classes[i]), bool(ignore[i]), *rows[i], *(kps[i] if kps is not None else ()))
        if key in seen:
            issues.append(BoxIssue(i, "duplicate", f"duplicate of an earlier box ({_fmt(boxes[i])} px); removed",
                                   fatal=False))
        seen.add(key)
    return issues


def checked_labels(
    file: Path,
    width: int,
    height: int,
    boxes: np.ndarray,
    classes: np.ndarray,
    nc: int,
    log: ProblemLog,
    where: Callable[[int], tuple[str | Path | None, int | None, str]],
    keypoints: np.ndarray | None = None,
    ignore: np.ndarray | None = None,
    label_file: Path | None = None,
) -> ImageLabels:
    """`check_boxes`, the issues logged where `where(box index) -> (file, line, message prefix)` says, and the
    image's labels without the boxes that must go (bad ones, duplicates), clipped to the image."""
    issues, keep, fixed = check_boxes(boxes, classes, width, height, nc, ignore, keypoints)
    for issue in issues:
        at_file, line, prefix = where(issue.index)
        log.add(issue.kind, prefix + issue.message, at_file, line, issue.fatal)
    labels = ImageLabels(file, width, height, fixed, classes, keypoints, ignore, label_file)
    return labels if keep.all() else labels.subset(keep)


def _fmt(box) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in box) + "]"
