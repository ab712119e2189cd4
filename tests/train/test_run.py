"""tinydet/train/run.py: the warning for small datasets that ultralytics' gradient accumulation starves."""

from __future__ import annotations

from tinydet.train.run import few_updates_warning, optimizer_updates


def test_optimizer_updates_follow_ultralytics_accumulation_and_warmup():
    assert optimizer_updates(10, 5, 1) == 50  # no accumulation: a step per batch
    assert optimizer_updates(50, 8, 4, warmup_epochs=0) == 100  # every 4th batch: 400 / 4
    # 2 batches an epoch, 40 epochs, nominal 8. The warm-up (6 iterations) ramps accumulate 1 -> 8 faster than
    # batches arrive: a step at ni 0, then every 8th batch (8, 16, ..., 72)
    assert optimizer_updates(2, 40, 8) == 10
    assert optimizer_updates(2, 40, 8, warmup_epochs=0) == 10  # ni 7, 15, ..., 79
    # warm-up capped at epochs - 1 = 2 epochs (20 iterations): steps at 0, 1, 2, 3, 5, 7, 9, 12, 15, 19, then 23, 27
    assert optimizer_updates(10, 3, 4) == 12


def test_a_tiny_dataset_is_told_how_few_updates_it_gets():
    message = few_updates_warning(16, 8, 64, 40)  # 2 batches an epoch, 8 batches per step
    assert message is not None and "accumulates 8 batches" in message
    assert "makes 10 optimizer steps (40 epochs of 2 batches)" in message and "--set nbs=8" in message
    assert "16 training images" in message
    assert "makes 1 optimizer step (1 epoch of 1 batch)" in few_updates_warning(8, 8, 64, 1)


def test_no_warning_where_accumulation_is_harmless_or_unknown():
    assert few_updates_warning(800, 16, 64, 8) is None  # 50 batches an epoch, a step every 4
    assert few_updates_warning(16, 64, 64, 40) is None  # batch = nbs: no accumulation
    assert few_updates_warning(16, 8, 8, 40) is None  # --set nbs=8
    assert few_updates_warning(16, -1, 64, 40) is None and few_updates_warning(16, 0.7, 64, 40) is None  # AutoBatch


def test_the_warning_counts_steps_with_the_runs_warmup():
    with_default = few_updates_warning(16, 8, 64, 40)
    no_warmup = few_updates_warning(100, 8, 64, 3, warmup_epochs=0)  # 13 batches an epoch, a step every 8
    assert "makes 10 optimizer steps" in with_default
    assert f"makes {optimizer_updates(13, 3, 8, 0)} optimizer steps" in no_warmup
    assert optimizer_updates(13, 3, 8, 0) != optimizer_updates(13, 3, 8)  # so the warm-up must be passed on

