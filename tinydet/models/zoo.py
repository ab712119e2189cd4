"""The model zoo: names -> config files, for tinydet's own configs and the stock ultralytics ones we list.

Names carry the scale letter like ultralytics (`yolov8n-p2-nop5`, `yolo11s-p2-cbam`); the file on disk has
none (`yolov8-p2-nop5.yaml` with an n/s/m `scales` table). Ultralytics strips the letter itself when it finds
no file of the full name, so the path we hand to `YOLO()` is the scale-lettered one beside the real file.
"""

from __future__ import annotations

import functools
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from tinydet.errors import TinydetError
from tinydet.registry import Registry
from tinydet.integrations.ultralytics.env import stock_config_path

CFG_DIR = Path(__file__).parent / "cfg"
_FAMILY = re.compile(r"^(yolov?\d+)(-.*)?$")  # 'yolov8-p2-nop5' -> ('yolov8', '-p2-nop5')

# Stock ultralytics configs listed in the zoo for reference (ultralytics resolves these names itself, offline).
STOCK_FAMILIES = (
    "yolov8",
    "yolov8-p2",
    "yolov8-pose",
    "yolov8-seg",
    "yolo11",
    "yolo11-pose",
    "yolo11-seg",
    "yolo26",
    "yolo26-p2",
    "yolo26-pose",
    "yolo26-seg",
)
STOCK_SCALES = "nsm"
TWIN_SUFFIXES = {"pose": "-pose", "segment": "-seg"}  # task -> name suffix, as ultralytics names its twins


@dataclass(frozen=True)
class ZooEntry:
    """One named model: `name` (with scale letter), `family_file` (real YAML), `scale`, `source` (tinydet/stock)."""

    name: str
    family_file: str
    scale: str
    source: str

    @property
    def task(self) -> str:
        """'detect', 'pose' or 'segment', from the twin suffix of the name."""
        return next((task for task, suffix in TWIN_SUFFIXES.items() if self.name.endswith(suffix)), "detect")

    @property
    def config_path(self) -> Path:
        """The real YAML file (without scale letter) that builds this model."""
        if self.source == "stock":
            return stock_config_path(self.family_file)
        return Path(self.family_file)

    @property
    def model_path(self) -> str:
        """What to pass to `ultralytics.YOLO()`: the scale-lettered path (see module docstring)."""
        if self.source == "stock":
            return f"{self.name}.yaml"
        return str(Path(self.family_file).with_name(f"{self.name}.yaml"))


def scaled_name(family: str, scale: str) -> str:
    """'yolov8-p2-nop5', 'n' -> 'yolov8n-p2-nop5'."""
    match = _FAMILY.match(family)
    if not match:
        raise ValueError(f"config name '{family}' does not start with yolov<digits> or yolo<digits>")
    return f"{match.group(1)}{scale}{match.group(2) or ''}"


@functools.lru_cache(maxsize=None)
def _scales_of(path: str, mtime_ns: int) -> tuple[str, ...]:
    """Scale letters of a config file (cached until the file changes)."""
    return tuple((yaml.safe_load(Path(path).read_text()) or {}).get("scales") or {})


def _tinydet_entries() -> list[ZooEntry]:
    entries = []
    for path in sorted(CFG_DIR.glob("*.yaml")):
        for scale in _scales_of(str(path), path.stat().st_mtime_ns):
            entries.append(ZooEntry(scaled_name(path.stem, scale), str(path), scale, "tinydet"))
    return entries


def _stock_entries() -> list[ZooEntry]:
    return [
        ZooEntry(scaled_name(family, scale), f"{family}.yaml", scale, "stock")
        for family in STOCK_FAMILIES
        for scale in STOCK_SCALES
    ]


def zoo() -> Registry[ZooEntry]:
    """Every named model (a tinydet config of the same name as a stock one wins), read from the config folders."""
    entries: dict[str, ZooEntry] = {}
    for entry in _stock_entries() + _tinydet_entries():
        entries[entry.name] = entry
    return Registry("model", entries)


def resolve_model(spec: str | Path) -> str:
    """A model argument (zoo name, YAML path or checkpoint path) -> what to pass to `ultralytics.YOLO()`.

    Never returns a bare weight name: ultralytics would try to download it.
    """
    text = str(spec)
    path = Path(text).expanduser()
    suffix = path.suffix.lower()
    if suffix == ".pt" and path.is_file():
        if not zipfile.is_zipfile(path):  # torch.save writes a zip archive; ultralytics' own error is a TypeError
            raise TinydetError(f"{text}: not a PyTorch checkpoint (empty, truncated or another kind of file)")
        return str(path.resolve())
    if suffix in {".yaml", ".yml"} and path.is_file():
        _check_model_yaml(path, text)
        return str(path.resolve())
    if suffix == ".pt":
        raise TinydetError(f"checkpoint not found: {text} (tinydet never downloads weights; train one first)")
    if suffix in {".yaml", ".yml"} and ("/" in text or "\\" in text):
        raise TinydetError(f"model config not found: {text}")
    name = path.stem if suffix in {".yaml", ".yml"} else text
    entries = zoo()
    if name in entries:
        return entries[name].model_path
    close = [n for n in entries if n.split("-")[0] == name.split("-")[0]][:8]
    hint = f"; similar: {', '.join(close)}" if close else ""
    raise TinydetError(f"unknown model '{text}': not a file and not in the zoo (run `tinydet models`){hint}")


def _check_model_yaml(path: Path, text: str) -> None:
    """A model YAML names its layers in 'backbone' and 'head' lists; anything else (a data.yaml, a recipe) stops
    here instead of as a KeyError inside ultralytics."""
    try:
        d = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise TinydetError(f"{text}: not readable YAML ({' '.join(str(e).split())})") from None
    if not isinstance(d, dict) or not all(isinstance(d.get(k), list) for k in ("backbone", "head")):
        raise TinydetError(f"{text}: not a model config (it needs 'backbone' and 'head' lists of layers, as "
                           "ultralytics' model YAMLs have; `tinydet models` lists the zoo)")


def _twin(name: str, suffix: str, task: str) -> str:
    base = detect_twin(name)
    twin = base + suffix
    if twin not in zoo():
        raise TinydetError(f"'{base}' has no {task} twin in the zoo (no config '{twin}')")
    return twin


def detect_twin(name: str) -> str:
    """'yolov8n-p2-nop5-pose' or '-seg' -> 'yolov8n-p2-nop5' (a detect name is returned as it is)."""
    for suffix in TWIN_SUFFIXES.values():
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if name not in zoo():
        raise TinydetError(f"unknown model '{name}': not in the zoo (run `tinydet models`)")
    return name


def pose_twin(name: str) -> str:
    """'yolov8n-p2-nop5' -> 'yolov8n-p2-nop5-pose': same backbone and neck, Pose head with one keypoint.

    The pose-aux recipe trains the pose twin, then loads its weights into `detect_twin(...)` built with the
    dataset's class count.
    """
    return _twin(name, TWIN_SUFFIXES["pose"], "pose")


def segment_twin(name: str) -> str:
    """'yolov8n-p2-nop5' -> 'yolov8n-p2-nop5-seg': same backbone and neck, Segment head."""
    return _twin(name, TWIN_SUFFIXES["segment"], "segment")
