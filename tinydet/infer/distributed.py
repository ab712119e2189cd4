"""Batch inference on a Ray cluster: the images of a folder, glob or list spread over workers.

Each worker is a Ray actor that builds the same predictor as the single-process path from the same
`PredictSpec` (tinydet.infer.batch) once, then predicts the chunks of images it is handed with the same
`predict_opened` (each next image read ahead, tinydet.infer.readahead), writing the per-image outputs
(labels/*.txt, images/*.jpg) itself, atomically, under OUT. The COCO results of each image come back to the
driver, which writes predictions.json in the order of the sorted source list: whichever worker finishes first,
the files are those of `tinydet predict` without `--ray`.

Paths (models, images, OUT) must be the same on every node: a shared file system, or one machine.
Ray is an optional dependency: `pip install 'tinydet[ray]'`.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import torch

from tinydet.errors import TinydetError
from tinydet.version import __version__
from tinydet.files import write_atomic
from tinydet.infer.batch import PredictSpec, predict_opened
from tinydet.infer.output_names import PREDICTIONS_JSON, Saves, plan_outputs
from tinydet.infer.outputs import PredictionWriter
from tinydet.infer.readahead import read_ahead
from tinydet.infer.sources import is_video, source_key

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the tinydet package this process imports


@dataclass(frozen=True)
class RayOptions:
    """address: cluster to join (None: $RAY_ADDRESS, a cluster started here with `ray start`, else a new local
    one); workers: actors (None: the cluster's CPUs / cpus, at most one per chunk); cpus, gpus: per worker;
    chunk: images per task (None: about 4 tasks per worker, so that fast workers take more); skip_bad: an
    unreadable image is reported in RayReport.skipped instead of stopping the run."""

    address: str | None = None
    workers: int | None = None
    cpus: float = 1.0
    gpus: float = 0.0
    chunk: int | None = None
    skip_bad: bool = False

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise TinydetError(f"--ray-workers must be at least 1, got {self.workers}")
        if self.cpus <= 0 or self.gpus < 0:
            raise TinydetError(f"--ray-cpus must be positive and --ray-gpus not negative, got {self.cpus}, {self.gpus}")
        if self.chunk is not None and self.chunk < 1:
            raise TinydetError(f"chunk must be at least 1, got {self.chunk}")


@dataclass(frozen=True)
class RayReport:
    images: int
    boxes: int
    workers: int
    seconds: float  # from the cluster being ready to the last output written
    writes: bool
    skipped: list[str] = field(default_factory=list)  # why each skipped image (skip_bad) could not be read


def import_ray():
    """The `ray` module, or a one-line error saying how to install it."""
    try:
        import ray  # optional: tinydet[ray]
    except ModuleNotFoundError as e:
        if e.name != "ray":
            raise
        raise TinydetError("--ray needs Ray, which is not installed: pip install 'tinydet[ray]'") from None
    return ray


def predict_ray(
    spec: PredictSpec,
    files: list[Path],
    root: Path | None,
    out: Path,
    save_txt: bool = False,
    save_json: bool = False,
    save_img: bool = False,
    coco_gt: str | Path | None = None,
    options: RayOptions = RayOptions(),
    exist_ok: bool = False,
) -> RayReport:
    """Predict `files` (images; `root` names their outputs, see tinydet.infer.outputs) on a Ray cluster.

    Before any work, the outputs are checked as `tinydet predict` checks them (tinydet.infer.output_names): two
    images that would write one file, or files of an earlier run in `out` (unless `exist_ok`), raise
    TinydetError."""
    videos = [f for f in files if is_video(f)]
    if videos:
        raise TinydetError(f"{videos[0]}: --ray predicts images only; predict videos without --ray")
    plan_outputs(Path(out), files, [source_key(f, root) for f in files], [False] * len(files),
                 Saves(txt=save_txt, json=save_json, img=save_img), exist_ok)
    for model in spec.models:
        if not Path(model).is_file():
            raise TinydetError(f"model not found: {model}")
    if coco_gt is not None and not Path(coco_gt).is_file():
        raise TinydetError(f"COCO file not found: {coco_gt}")
    ray = import_ray()
    started = _connect(ray, options.address)
    try:
        return _run(ray, spec, files, root, Path(out).resolve(), save_txt, save_json, save_img, coco_gt, options)
    finally:
        if started:
            ray.shutdown()


def _connect(ray, address: str | None) -> bool:
    """Join or start a cluster; True when this call started (and so should stop) it."""
    if ray.is_initialized():
        return False

    kwargs: dict = {"include_dashboard": False, "logging_level": "ERROR", "log_to_driver": False}
    address = address or os.environ.get("RAY_ADDRESS")
    if address is None:
        # A cluster started by this process: its workers must import the same tinydet as the driver, even from a
        # source checkout that is not installed (PYTHONPATH relative to another folder would not do).
        package_root = str(PACKAGE_DIR.parent)
        paths = [package_root] + [str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}}
    try:
        ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as e:
        where = address or "a new local cluster"
        raise TinydetError(f"cannot start or join Ray at {where}: {' '.join(str(e).split())[:300]}") from None
    return True


def _run(ray, spec, files, root, out, save_txt, save_json, save_img, coco_gt, options) -> RayReport:
    if spec.slicing.backend != "torch":  # export once here, not once per worker at the same time
        spec.build()
    cluster_cpus = float(ray.cluster_resources().get("CPU", 1))
    workers = options.workers or max(1, int(cluster_cpus // options.cpus))
    workers = min(workers, len(files))
    chunk = options.chunk or max(1, -(-len(files) // (4 * workers)))
    items = [(i, str(f), source_key(f, root)) for i, f in enumerate(files)]
    chunks = [items[k : k + chunk] for k in range(0, len(items), chunk)]

    actor = ray.remote(num_cpus=options.cpus, num_gpus=options.gpus)(_Worker)
    pool = [actor.remote(spec, str(out), save_txt, save_json, save_img, None if coco_gt is None else str(coco_gt),
                         options.skip_bad) for _ in range(workers)]
    try:
        versions = ray.get([w.version.remote() for w in pool])  # waits until every worker has built its predictor
    except ray.exceptions.RayError as e:
        raise TinydetError(f"a Ray worker could not start: {_worker_error(e)}") from None
    for version, where in versions:
        if version != __version__:
            raise TinydetError(f"a Ray worker runs tinydet {version} ({where}), this machine {__version__}: "
                               "install the same version on every node")
    start = time.perf_counter()
    results: dict[int, tuple[int, list | str]] = {}
    from ray.util import ActorPool  # optional: tinydet[ray]

    try:
        for part in ActorPool(pool).map_unordered(lambda w, c: w.run.remote(c), chunks):
            for index, boxes, coco in part:
                results[index] = (boxes, coco)
    except ray.exceptions.RayError as e:
        raise TinydetError(_worker_error(e)) from None
    skipped = [results[i][1] for i in range(len(files)) if isinstance(results[i][1], str)]
    if save_json:
        entries = [entry for i in range(len(files)) if not isinstance(results[i][1], str) for entry in results[i][1]]
        write_atomic(out / PREDICTIONS_JSON, json.dumps(entries))
    seconds = time.perf_counter() - start
    for w in pool:
        ray.kill(w)
    return RayReport(len(files), sum(b for b, _ in results.values()), workers, seconds, save_txt or save_json or save_img,
                     skipped)


def _worker_error(error: Exception) -> str:
    """The one line a user needs from a worker's failure: a TinydetError's message, else the last line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in reversed(lines):
        for prefix in ("tinydet.errors.TinydetError:", "tinydet.errors.DataError:", "TinydetError:"):
            if line.startswith(prefix):
                return line[len(prefix):].strip()
    return lines[-1] if lines else type(error).__name__


class _Worker:
    """One Ray actor: the predictor and an output writer, built once."""

    def __init__(self, spec: PredictSpec, out: str, save_txt: bool, save_json: bool, save_img: bool, coco_gt: str | None,
                 skip_bad: bool = False):
        cpus = max(1, int(os.environ.get("OMP_NUM_THREADS", "1") or 1))
        torch.set_num_threads(cpus)  # Ray sets OMP_NUM_THREADS to the actor's num_cpus
        self.spec, self.skip_bad = spec, skip_bad
        self.predictor = spec.build()
        self.writer = PredictionWriter(Path(out), self.predictor.names, save_txt, save_json, save_img, coco_gt)

    def version(self) -> tuple[str, str]:
        return __version__, str(PACKAGE_DIR / "__init__.py")

    def run(self, items: list[tuple[int, str, str]]) -> list[tuple[int, int, list | str]]:
        """(index, boxes, COCO entries) of each (index, path, key) predicted; per-image files are written here.
        An unreadable image with skip_bad: (index, 0, why)."""
        done: list[tuple[int, int, list | str]] = []
        with closing(read_ahead([path for _, path, _ in items], self.spec.slicing.max_pixels)) as opened_images:
            for (index, _, key), (_, opened) in zip(items, opened_images):
                try:
                    reader = opened()
                except TinydetError as e:
                    if not self.skip_bad:
                        raise
                    done.append((index, 0, str(e)))
                    continue
                before = len(self.writer.coco)
                dets = predict_opened(self.predictor, self.writer, reader, key)
                done.append((index, len(dets), self.writer.coco[before:]))
                del self.writer.coco[before:]
        return done


__all__ = ["RayOptions", "RayReport", "import_ray", "predict_ray"]

