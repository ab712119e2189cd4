"""A training killed with SIGKILL right after it saved its first epoch resumes with `tinydet train --resume` and
ends with every epoch logged once, its checkpoints whole and no temporary files left. The run folder is named
`model`, which ultralytics on its own would rename after the model (runs/yolov8n)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EPOCHS = 4


def tinydet(log: Path, *args: str) -> subprocess.Popen:
    """`python -m tinydet ARGS` with its output in `log` (a pipe nobody reads could fill up and stall it)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "tinydet", *args], cwd=REPO, env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def epochs_logged(run: Path) -> list[int]:
    with (run / "results.csv").open() as f:
        return [int(float(row["epoch"])) for row in csv.DictReader(f)]


@pytest.mark.slow
def test_killed_training_resumes_to_the_end(tiny_data, tmp_path):
    run = tmp_path / "model"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = tinydet(first_log, "train", "--data", str(tiny_data), "--model", "yolov8n", "--epochs", str(EPOCHS), "--imgsz", "64",
                    "--batch", "4", "--out", str(run), "--set", "plots=false")
    last = run / "weights" / "last.pt"
    deadline = time.monotonic() + 300
    while not last.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert last.exists(), f"no last.pt before the process ended:\n{first_log.read_text()[-3000:]}"
    first.send_signal(signal.SIGSTOP)  # frozen at once; checked, then killed
    assert first.poll() is None and len(epochs_logged(run)) < EPOCHS, "the run finished before it could be killed"
    first.send_signal(signal.SIGKILL)
    first.wait(30)

    second = tinydet(second_log, "train", "--resume", str(run))
    assert second.wait(timeout=600) == 0, second_log.read_text()[-3000:]
    assert epochs_logged(run) == list(range(1, EPOCHS + 1))
    weights = sorted(p.name for p in (run / "weights").iterdir())
    assert weights == ["best.pt", "last.pt"], weights  # no temporary checkpoint left behind
    assert not (tmp_path / "yolov8n").exists() and not (run / "model").exists()  # resumed into the same folder

    import torch

    for name in weights:
        ckpt = torch.load(run / "weights" / name, map_location="cpu", weights_only=False)
        assert ckpt["train_args"]["epochs"] == EPOCHS


class _WritesInPlace:
    """Stands in for ultralytics' BaseTrainer.save_model: write_bytes to self.last, then to self.best."""

    crash = False

    def save_model(self):
        self.last.write_bytes(b"new last")
        if self.crash:
            raise KeyboardInterrupt  # killed between the two writes
        self.best.write_bytes(b"new best")
        return True


def test_checkpoints_are_replaced_whole_or_not_at_all(tmp_path):
    from tinydet.integrations.ultralytics.training.trainer import _AtomicCheckpointMixin

    class Trainer(_AtomicCheckpointMixin, _WritesInPlace):
        pass

    trainer = Trainer()
    trainer.last, trainer.best = tmp_path / "last.pt", tmp_path / "best.pt"
    trainer.last.write_bytes(b"old last")
    trainer.best.write_bytes(b"old best")
    trainer.crash = True
    with pytest.raises(KeyboardInterrupt):
        trainer.save_model()
    assert trainer.last.read_bytes() == b"old last" and trainer.best.read_bytes() == b"old best"
    assert trainer.last == tmp_path / "last.pt"  # the trainer's own paths are restored
    trainer.crash = False
    assert trainer.save_model() is True
    assert trainer.last.read_bytes() == b"new last" and trainer.best.read_bytes() == b"new best"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "last.pt"]  # the crash's leftover is gone


def test_a_run_that_saved_no_checkpoint_can_be_started_again(tiny_data, tmp_path):
    """A failure before the first checkpoint removes the run folder it created; a folder left by a kill at that
    point (run record, no .pt) is started over by the same command, and --resume explains why it cannot help."""
    from tinydet.errors import TinydetError
    from tinydet.train.api import RUN_FILE, TrainOptions, resume, train

    def fail(trainer):
        raise RuntimeError("stopped by the test")

    run = tmp_path / "run"
    opts = TrainOptions(data=str(tiny_data), model="yolov8n", epochs=1, imgsz=64, batch=4, out=str(run), workers=0,
                        overrides={"plots": False})
    with pytest.raises(RuntimeError, match="stopped by the test"):
        train(opts, callbacks={"on_train_start": [fail]})
    assert not run.exists()

    run.mkdir()
    (run / RUN_FILE).write_text("tinydet: {}\n")  # what a kill during the first epoch leaves
    (run / "labels.jpg").write_bytes(b"x")
    with pytest.raises(TinydetError, match="stopped before its first checkpoint; run the same"):
        resume(run)
    result = train(opts)
    assert result.best.is_file() and not (run / "labels.jpg").exists()


def test_a_run_folder_with_checkpoints_is_never_replaced(tiny_data, tmp_path):
    from tinydet.errors import TinydetError
    from tinydet.train.api import RUN_FILE, TrainOptions, train

    run = tmp_path / "run"
    (run / "weights").mkdir(parents=True)
    (run / RUN_FILE).write_text("tinydet: {}\n")
    (run / "weights" / "last.pt").write_bytes(b"precious")
    with pytest.raises(TinydetError, match="already exists and is not empty"):
        train(TrainOptions(data=str(tiny_data), model="yolov8n", epochs=1, imgsz=64, out=str(run)))
    assert (run / "weights" / "last.pt").read_bytes() == b"precious"
