"""A markdown table of runs in the style of the seed-002 README: model, mAP50, mAP50-95, AP small, params,
GFLOPs, with tinydet's own (pycocotools-exact) metrics on each run's val split. Runs evaluated on different
images get one table each: their numbers are not comparable."""

from __future__ import annotations

from collections.abc import Sequence

from tinydet.eval.runs import RunEvaluation


def _cell(value, fmt: str) -> str:
    return "n/a" if value is None or (isinstance(value, float) and value < 0) else format(value, fmt)


def by_images(evals: Sequence[RunEvaluation]) -> list[list[RunEvaluation]]:
    """The runs grouped by the images they were evaluated on, groups in order of their first run."""
    groups: dict[str, list[RunEvaluation]] = {}
    for ev in evals:
        groups.setdefault(ev.images_sha256, []).append(ev)
    return list(groups.values())


def markdown_tables(evals: Sequence[RunEvaluation], split: str = "val") -> str:
    """`markdown_table` of the runs; with runs on different images, one titled table per image set."""
    groups = by_images(evals)
    if len(groups) == 1:
        return markdown_table(evals)
    parts = []
    for group in groups:
        r = group[0].result
        parts.append(f"Runs on {group[0].run.data} [{split}]: {r.n_images} images, {r.n_gt} objects\n\n"
                     + markdown_table(group))
    return "\n\n".join(parts)


def markdown_table(evals: Sequence[RunEvaluation]) -> str:
    """| Model | mAP50 | mAP50-95 | AP small | AP very tiny | AP tiny | Params | GFLOPs | Run |, one row per run.

    mAP50 and mAP50-95 are COCO AP50 and AP; AP small is COCO's (< 32 px); AP very tiny / tiny are AI-TOD's
    (< 8 px, 8-16 px); GFLOPs at the run's training image size."""
    head = "| Model | mAP50 | mAP50-95 | AP small | AP very tiny | AP tiny | Params | GFLOPs | Run |"
    lines = [head, "| -------- | :-----: | :------: | :------: | :------: | :------: | :------: | :------: | -------- |"]
    for ev in evals:
        r = ev.result
        coco, aitod = r.coco, r.aitod
        lines.append(
            f"| {ev.run.model or ev.run.name} | {_cell(coco.AP50, '.3f')} | {_cell(coco.AP, '.3f')} | "
            f"{_cell(coco.APs, '.3f')} | {_cell(aitod.APvt if aitod else None, '.3f')} | "
            f"{_cell(aitod.APt if aitod else None, '.3f')} | "
            f"{'n/a' if not ev.params else f'{ev.params / 1e6:.3f}M'} | {_cell(ev.gflops, '.1f')} | {ev.run.name} |"
        )
    return "\n".join(lines)
