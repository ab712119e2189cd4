"""Exports for the ONNX Runtime and OpenVINO backends, made with ultralytics' public `export()` and cached.

The cache lives next to the checkpoint (`.tinydet-cache/<stem>-<hash>/<format>-<H>x<W>/`), or in the system temp
folder when that is not writable. The checkpoint is copied into a fresh folder before exporting, so ultralytics
never writes beside the user's file (it would overwrite an existing `<stem>.onnx`), and the finished folder is
renamed into place in one step, so an interrupted export is never mistaken for a finished one. The key includes
the checkpoint's content hash, so a retrained checkpoint at the same path is exported again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

from tinydet.errors import TinydetError
from tinydet.infer.backends import round_to_stride
from tinydet.infer.backends.pytorch import head_info, load_yolo

_ARTIFACTS = {"onnx": "model.onnx", "openvino": "model_openvino_model/model.xml"}


def _digest(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:12]


def _cache_root(checkpoint: Path) -> Path:
    beside = checkpoint.parent / ".tinydet-cache"
    try:
        beside.mkdir(exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=beside, delete=True)
        probe.close()
        return beside
    except OSError:
        fallback = Path(tempfile.gettempdir()) / "tinydet-cache"
        fallback.mkdir(exist_ok=True)
        return fallback


def exported(checkpoint: Path, fmt: str, want_hw: tuple[int, int]) -> tuple[Path, dict]:
    """(path of the exported model, its metadata: names, stride, end2end, input_hw) for `fmt` in onnx/openvino.

    `want_hw` is rounded up to the model's stride; the export accepts any batch size.
    """
    root = _cache_root(checkpoint) / f"{checkpoint.stem}-{_digest(checkpoint)}"
    for done in root.glob(f"{fmt}-*/tinydet.json") if root.exists() else []:
        meta = json.loads(done.read_text())
        if tuple(meta["input_hw"]) == round_to_stride(want_hw, meta["stride"]):
            return done.parent / _ARTIFACTS[fmt], meta

    names, stride, end2end = head_info(load_yolo(checkpoint))
    input_hw = round_to_stride(want_hw, stride)
    final = root / f"{fmt}-{input_hw[0]}x{input_hw[1]}"
    print(f"tinydet: exporting {checkpoint.name} to {fmt} for {input_hw[1]}x{input_hw[0]} inputs, once "
          f"(cached in {final})", file=sys.stderr)
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{fmt}-", dir=root))
    try:
        shutil.copyfile(checkpoint, work / "model.pt")
        yolo = load_yolo(work / "model.pt")
        try:
            yolo.export(format=fmt, imgsz=list(input_hw), dynamic=True, batch=1, simplify=True, device="cpu")
        except Exception as e:  # ultralytics raises many kinds; the user needs the one line
            raise TinydetError(f"{checkpoint}: export to {fmt} failed ({type(e).__name__}: {e})") from None
        if not (work / _ARTIFACTS[fmt]).exists():
            raise TinydetError(f"{checkpoint}: export to {fmt} produced no {_ARTIFACTS[fmt]}")
        (work / "model.pt").unlink()
        end2end = exported_end2end(work / _ARTIFACTS[fmt], fmt, end2end)
        meta = {"names": names, "stride": stride, "end2end": end2end, "input_hw": list(input_hw), "format": fmt}
        (work / "tinydet.json").write_text(json.dumps(meta))
        try:
            os.replace(work, final)
        except OSError:  # another process finished the same export first
            shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    meta = json.loads((final / "tinydet.json").read_text())
    return final / _ARTIFACTS[fmt], meta


def exported_end2end(artifact: Path, fmt: str, default: bool) -> bool:
    """Whether the exported graph ends in the NMS-free head ([B, K, 6]), from the metadata ultralytics embeds."""
    value = None
    if fmt == "onnx":
        import onnx  # optional: tinydet[export]

        props = {p.key: p.value for p in onnx.load(str(artifact), load_external_data=False).metadata_props}
        value = props.get("end2end")
    else:
        meta_file = artifact.parent / "metadata.yaml"
        if meta_file.exists():
            value = (yaml.safe_load(meta_file.read_text()) or {}).get("end2end")
    if value is None:
        return default
    return str(value).strip().lower() == "true"


def names_from_meta(meta: dict) -> dict[int, str]:
    return {int(k): v for k, v in meta["names"].items()}
