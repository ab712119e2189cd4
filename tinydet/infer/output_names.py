"""Where `tinydet predict` writes each output, checked before the first image is predicted.

Outputs are named by each source's path relative to SOURCE without its suffix (`labels/sub/a.txt`,
`images/sub/a.jpg` for `SOURCE/sub/a.jpg`; `labels/clip_000012.txt` and `videos/clip.mp4` for frame 12 of
`clip.mp4`). `plan_outputs` lists the files a run will write and stops, before anything is predicted, when:

- two sources would write the same file (`a.jpg` and `a.png` in one folder; `clip_000000.png` beside `clip.mp4`);
- an output would replace a source image, or `--out` lies inside a SOURCE folder (`check_out_outside`: outputs
  never go inside the user's inputs);
- an output already exists and the caller did not allow overwriting (`exist_ok`).

Folders of drawn outputs hold an empty `DRAWN_MARK` file, so a later run on a folder that contains them (the
default `runs/predict` inside the current folder) does not predict its own earlier drawings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tinydet.errors import TinydetError

PREDICTIONS_JSON = "predictions.json"
DRAWN_MARK = ".tinydet-drawn"  # an empty file in every folder of drawn outputs: `list_sources` skips those folders


def image_stem(key: str) -> str:
    """'sub/a.jpg' -> 'sub/a': the name of an image's outputs."""
    return Path(key).with_suffix("").as_posix()


def frame_stem(video_key: str, index: int) -> str:
    """'sub/clip.mp4', 12 -> 'sub/clip_000012': the name of a video frame's outputs."""
    return f"{image_stem(video_key)}_{index:06d}"


def label_file(stem: str) -> str:
    return f"labels/{stem}.txt"


def drawn_image_file(stem: str) -> str:
    return f"images/{stem}.jpg"


def drawn_video_file(video_key: str) -> str:
    return f"videos/{image_stem(video_key)}.mp4"


@dataclass(frozen=True)
class Saves:
    """Which outputs a run writes (tinydet predict's --save-txt, --save-json, --save-img)."""

    txt: bool = False
    json: bool = False
    img: bool = False


def plan_outputs(out: Path, sources: list[Path], keys: list[str], is_video: list[bool], saves: Saves,
                 exist_ok: bool = False) -> list[Path]:
    """The files a run writes under `out` (video frames' label files excepted: their number is known only once
    decoded, so they are checked by pattern). Raises TinydetError, naming the files, in the cases of the module
    docstring.

    sources: the source files; keys: their names relative to SOURCE ('sub/a.jpg'); is_video: per source.
    """
    writers: dict[str, str] = {}  # output (relative to out) -> the source key writing it

    def claim(output: str, key: str) -> None:
        if output in writers:
            raise TinydetError(
                f"{writers[output]} and {key} would both write {out / output}: predict them into different --out "
                "folders, or rename one")
        writers[output] = key

    frame_patterns: dict[str, str] = {}  # video stem -> video key, when frames write label files
    for key, video in zip(keys, is_video):
        if video:
            if saves.img:
                claim(drawn_video_file(key), key)
            if saves.txt:
                stem = image_stem(key)
                if stem in frame_patterns:
                    raise TinydetError(f"{frame_patterns[stem]} and {key} would both write {out}/labels/{stem}_NNNNNN.txt: "
                                       "predict them into different --out folders, or rename one")
                frame_patterns[stem] = key
        else:
            if saves.txt:
                claim(label_file(image_stem(key)), key)
            if saves.img:
                claim(drawn_image_file(image_stem(key)), key)
    for stem, video_key in frame_patterns.items():
        frame = re.compile(re.escape(f"labels/{stem}_") + r"\d{6}\.txt")
        clash = next((o for o in writers if frame.fullmatch(o)), None)
        if clash is not None:
            raise TinydetError(f"{writers[clash]} and the frames of {video_key} would both write {out / clash}: "
                               "predict them into different --out folders, or rename one")
    if saves.json:
        claim(PREDICTIONS_JSON, "the run")

    files = [out / o for o in writers]
    _check_sources_kept(files, sources)
    if not exist_ok:
        _check_new(out, files, frame_patterns)
    return files


def _check_sources_kept(files: list[Path], sources: list[Path]) -> None:
    """Never write over a source (always enforced, exist_ok or not)."""
    inputs = {p.resolve() for p in sources}
    for f in files:
        if f.resolve() in inputs:
            raise TinydetError(f"an output would replace the source image {f}: give an --out outside the source folders")


def _check_new(out: Path, files: list[Path], frame_patterns: dict[str, str]) -> None:
    existing = [f for f in files if f.exists()]
    for stem in frame_patterns:
        labels = out / "labels" / Path(stem).parent
        existing += sorted(labels.glob(f"{Path(stem).name}_[0-9][0-9][0-9][0-9][0-9][0-9].txt")) if labels.is_dir() else []
    if existing:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        raise TinydetError(f"{existing[0]}{more} already exist{'s' if len(existing) == 1 else ''} and would be "
                           "overwritten: give a new --out, or --exist-ok to overwrite them")


def check_out_outside(out: Path, source_folder: Path | None, default: bool = False) -> None:
    """Stop when `out` is `source_folder` or lies inside it (SOURCE given as a folder or a glob): drawn images and
    label files would then be added to the user's dataset. A single-file SOURCE has no folder (None); `default`:
    `out` is the default folder, not one the user named (the message says so)."""
    if source_folder is None:
        return
    folder = source_folder.expanduser().resolve()
    if out.expanduser().resolve().is_relative_to(folder):
        named = f"--out {out}" + (" (the default)" if default else "")
        raise TinydetError(f"{named} is inside the source folder {source_folder}: predict writes nothing into its "
                           "inputs; give an --out outside it")


def next_free_folder(base: Path) -> Path:
    """`base` when it does not exist yet, else the first of base2, base3, ... that does not (runs/predict2)."""
    if not base.exists():
        return base
    n = 2
    while (candidate := base.with_name(f"{base.name}{n}")).exists():
        n += 1
    return candidate
