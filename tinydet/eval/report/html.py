"""The report page: one self-contained HTML file (CSS, JavaScript and images inline; nothing fetched) that puts
several training runs side by side: summary, metrics per size bucket, PR curves per bucket, recall against
object size, error breakdown, confusion matrices, per-class AP, sample pictures, training curves.

The page's script records JavaScript errors in the `data-js-errors` attribute of <html> and sets
`data-report-ready="1"` when it has run, so a headless browser can prove the page works.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from tinydet.eval import analysis
from tinydet.eval.params import AITOD_RANGES, COCO_RANGES, IOU_THRESHOLDS
from tinydet.eval.report import plots
from tinydet.eval.report.samples import CSS_COLOURS, sample_picture
from tinydet.eval.runs import RunEvaluation, evaluate_run
from tinydet.eval.summary import mean_ap, mean_ar, threshold_index
from tinydet.files import write_atomic

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#c9cfdb;font-size:13px}main{padding:8px 28px 40px;max-width:1500px}
section{background:#fff;border:1px solid #e1e4ea;border-radius:8px;padding:14px 18px;margin:16px 0}
h2{font-size:17px;margin:0 0 10px}p.note{color:#5b6375;font-size:12.5px;margin:6px 0}
table{border-collapse:collapse;font-size:13px;margin:6px 0}th,td{padding:4px 9px;border-bottom:1px solid #eceef2;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#f0f2f5;position:sticky;top:0}
td.best{font-weight:700;color:#0b6b2f}td.na{color:#9aa1ad}.grid{display:flex;flex-wrap:wrap;gap:14px}
.grid figure{margin:0}.grid figcaption{font-size:12px;color:#5b6375;margin-top:3px}img{max-width:100%}
img.sample{max-width:420px;cursor:zoom-in;image-rendering:pixelated;border:1px solid #ddd}
img.sample.zoom{max-width:none;cursor:zoom-out}.legend span{display:inline-block;margin-right:14px;font-size:13px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px;border-radius:2px}
#js-error{display:none;background:#fde8e8;color:#9b1c1c;padding:8px 28px}
"""

HEAD_SCRIPT = """
(function(){var errors=[];function note(m){errors.push(String(m));
document.documentElement.setAttribute('data-js-errors',errors.join(' | '));
var b=document.getElementById('js-error');if(b){b.style.display='block';b.textContent='Script error: '+errors.join(' | ');}}
window.addEventListener('error',function(e){note(e.message||'error');});
window.addEventListener('unhandledrejection',function(e){note(e.reason||'rejection');});})();
"""

BODY_SCRIPT = """
document.querySelectorAll('img.sample').forEach(function(img){
  img.addEventListener('click',function(){img.classList.toggle('zoom');});});
document.querySelectorAll('table.compare tbody tr').forEach(function(tr){
  var groups={};tr.querySelectorAll('td[data-v]').forEach(function(td){
    var g=td.getAttribute('data-g')||'';(groups[g]=groups[g]||[]).push(td);});
  Object.keys(groups).forEach(function(g){var cells=groups[g];
    var vals=cells.map(function(td){return parseFloat(td.getAttribute('data-v'));});
    var ok=vals.filter(function(v){return isFinite(v)&&v>=0;});
    if(ok.length<2){return;}var best=Math.max.apply(null,ok);
    cells.forEach(function(td,i){if(vals[i]===best){td.classList.add('best');}});});});
document.documentElement.setAttribute('data-report-ready','1');
"""

SUMMARY_ROWS = [
    ("coco", "AP", "AP (IoU .50:.95)"), ("coco", "AP50", "AP50"), ("coco", "AP75", "AP75"),
    ("coco", "APs", "AP small (< 32 px)"), ("coco", "APm", "AP medium"), ("coco", "APl", "AP large"),
    ("coco", "AR100", "AR100"), ("aitod", "APvt", "AP very tiny (< 8 px)"), ("aitod", "APt", "AP tiny (8-16 px)"),
    ("aitod", "APs", "AP small (16-32 px, AI-TOD)"), ("aitod", "APm", "AP medium (32-64 px, AI-TOD)"),
    ("center", "AP", "AP centre distance (tau .05:.50)"), ("center", "AP50", "AP centre, tau 0.50"),
    ("center", "APvt", "AP centre, very tiny"), ("center", "APt", "AP centre, tiny"),
]


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _num(value, group: str = "", digits: int = 4) -> str:
    """A table cell with its value as data-v and its metric as data-g (the page marks the best value of each metric
    in a row); -1 / None shown as n/a."""
    if value is None or (isinstance(value, float) and (np.isnan(value) or value < 0)):
        return f'<td class="na" data-v="-1" data-g="{group}">n/a</td>'
    text = f"{value:.{digits}f}" if isinstance(value, float) else f"{value:,}"
    return f'<td data-v="{float(value)}" data-g="{group}">{text}</td>'


def _table(head: Sequence[str], rows: list[str], css: str = "compare") -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f'<table class="{css}"><thead><tr>{th}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _run_names(evals: list[RunEvaluation]) -> list[str]:
    names = [ev.run.name for ev in evals]
    if len(set(names)) < len(names):
        names = [f"{ev.run.run_dir.parent.name}/{ev.run.name}" for ev in evals]
    if len(set(names)) < len(names):
        names = [f"{i + 1}: {n}" for i, n in enumerate(names)]
    return names


def _summary(evals, names) -> str:
    rows = []
    for block, field, label in SUMMARY_ROWS:
        cells = "".join(_num(getattr(getattr(ev.result, block), field)) if getattr(ev.result, block) else _num(None)
                        for ev in evals)
        rows.append(f"<tr><td>{_e(label)}</td>{cells}</tr>")
    extra = [
        ("best F1 (IoU 0.5)", [ev.result.best_f1.f1 if ev.result.best_f1 else None for ev in evals]),
        ("precision at best F1", [ev.result.best_f1.precision if ev.result.best_f1 else None for ev in evals]),
        ("recall at best F1", [ev.result.best_f1.recall if ev.result.best_f1 else None for ev in evals]),
    ]
    for label, values in extra:
        rows.append(f"<tr><td>{_e(label)}</td>{''.join(_num(v) for v in values)}</tr>")
    info = [
        ("best-F1 confidence", [f"{ev.result.best_f1.confidence:.3f}" if ev.result.best_f1 else "n/a" for ev in evals]),
        ("model", [ev.run.model or "?" for ev in evals]),
        ("params", [f"{ev.params / 1e6:.3f}M" if ev.params else "n/a" for ev in evals]),
        ("GFLOPs (at imgsz)", [f"{ev.gflops:.1f}" if ev.gflops else "n/a" for ev in evals]),
        ("imgsz / epochs", [f"{ev.run.imgsz} / {ev.run.epochs if ev.run.epochs is not None else '?'}" for ev in evals]),
        ("images / objects / predictions", [f"{ev.result.n_images} / {ev.result.n_gt} / {ev.result.n_pred}" for ev in evals]),
        ("evaluation", ["cached" if ev.cached else "computed now" for ev in evals]),
    ]
    for label, values in info:
        rows.append(f"<tr><td>{_e(label)}</td>{''.join(f'<td>{_e(v)}</td>' for v in values)}</tr>")
    return _table(["metric"] + names, rows)


def _bucket_rows(evals) -> str:
    t50 = threshold_index(IOU_THRESHOLDS, 0.5)
    buckets = [("coco", r, "COCO") for r in COCO_RANGES] + [("aitod", r, "AI-TOD") for r in AITOD_RANGES[1:]]
    rows = []
    for block, r, family in buckets:
        key = f"{block}:{r.name}"
        d0 = evals[0].result.details
        regular = ~d0.gt.crowd
        n = int(((d0.gt.area >= r.lo) & (d0.gt.area <= r.hi) & regular).sum())
        cells = []
        for ev in evals:
            curves = ev.result.details.curves
            c = curves.get(key)
            centre = curves.get(f"center:{r.name}") if block == "aitod" or r.name == "all" else None
            cells += [_num(mean_ap(c) if c else None, "ap"), _num(mean_ap(c, t50) if c else None, "ap50"),
                      _num(mean_ar(c) if c else None, "ar"), _num(mean_ap(centre) if centre else None, "apc")]
        label = f"{family} {r.name} ({r.label()})" if r.name != "all" else "all objects"
        rows.append(f"<tr><td>{_e(label)}</td><td>{n:,}</td>{''.join(cells)}</tr>")
    return "".join(rows)


def _buckets(evals, names) -> str:
    head = ["bucket", "objects (run 1)"]
    for name in names:
        head += [f"{name} AP", "AP50", "AR", "AP centre"]
    return _table(head, [_bucket_rows(evals)])


def _per_class(evals, names) -> str:
    classes = [c.name for c in evals[0].result.per_class]
    rows = []
    for i, cname in enumerate(classes):
        cells = []
        for ev in evals:
            pc = ev.result.per_class
            c = pc[i] if i < len(pc) and pc[i].name == cname else None
            cells += [_num(c.AP if c else None, "ap"), _num(c.AP50 if c else None, "ap50"),
                      _num(c.AP_center if c else None, "apc"), _num(c.f1 if c else None, "f1")]
        n_gt = evals[0].result.per_class[i].n_gt
        rows.append(f"<tr><td>{_e(cname)}</td><td>{n_gt:,}</td>{''.join(cells)}</tr>")
    head = ["class", "objects"]
    for name in names:
        head += [f"{name} AP", "AP50", "AP centre", "F1"]
    return _table(head, rows)


def _errors(evals, names, breakdowns) -> str:
    rows = []
    for name, eb in zip(names, breakdowns):
        cells = "".join(f"<td>{v:,}</td>" for v in [eb.tp, *eb.as_dict().values()])
        rows.append(f"<tr><td>{_e(name)}</td><td>{eb.confidence:.3f}</td>{cells}</tr>")
    table = _table(["run", "confidence", "true positives", "localisation", "classification", "duplicate",
                    "background", "missed"], rows, css="plain")
    return table + f'<img alt="error breakdown" src="{plots.error_bars(list(zip(names, breakdowns)))}">'


def _samples(evals, names, confs, n: int) -> str:
    same_images = all(ev.result.details.gt.image_files == evals[0].result.details.gt.image_files for ev in evals)
    legend = "".join(f'<span><i style="background:{c}"></i>{_e(k)}</span>' for k, c in CSS_COLOURS.items())
    out = [f'<p class="legend">{legend}</p><p class="note">Images with the most errors (false positives + missed '
           "objects) at each run's best-F1 confidence; click to enlarge.</p>"]
    if same_images:
        errors = sum(analysis.image_errors(ev.result.details, c) for ev, c in zip(evals, confs))
        chosen = [analysis.worst_images(errors, n)] * len(evals)
    else:
        chosen = [analysis.worst_images(analysis.image_errors(ev.result.details, c), n) for ev, c in zip(evals, confs)]
    for row in range(max((len(c) for c in chosen), default=0)):
        figures = []
        for ev, name, conf, picks in zip(evals, names, confs, chosen):
            if row >= len(picks):
                continue
            i = picks[row]
            uri, counts = sample_picture(ev.result.details, i, conf)
            caption = f"{name}: {Path(ev.result.details.gt.image_files[i]).name} - " + ", ".join(
                f"{v} {k}" for k, v in counts.items())
            figures.append(f'<figure><img class="sample" alt="{_e(caption)}" src="{uri}"><figcaption>{_e(caption)}'
                           "</figcaption></figure>")
        out.append(f'<div class="grid">{"".join(figures)}</div>')
    return "".join(out)


def render(evals: list[RunEvaluation], n_samples: int = 6, title: str = "tinydet evaluation report") -> str:
    """The page for already evaluated runs (each with `keep_details`)."""
    if not evals:
        raise ValueError("render() needs at least one run")
    names = _run_names(evals)
    details = [ev.result.details for ev in evals]
    confs = [ev.result.best_f1.confidence if ev.result.best_f1 else 0.0 for ev in evals]
    curves = [(name, d.curves) for name, d in zip(names, details)]
    buckets = [("coco:all", "all objects")] + [(f"aitod:{r.name}", f"{r.name} ({r.label()})") for r in AITOD_RANGES[1:]]
    size_recall = [(name, analysis.recall_by_size(d, c)) for name, d, c in zip(names, details, confs)]
    breakdowns = [analysis.error_breakdown(d, c) for d, c in zip(details, confs)]
    class_names = list(details[0].gt.category_names)
    matrices = "".join(
        f'<figure><img alt="confusion matrix {_e(n)}" src="{plots.confusion(analysis.confusion_matrix(d, c), list(d.gt.category_names), n)}">'
        f"<figcaption>{_e(n)} at confidence {c:.3f}</figcaption></figure>"
        for n, d, c in zip(names, details, confs))
    history = plots.training_curves([(n, ev.history) for n, ev in zip(names, evals)])
    sections = [
        ("Summary", _summary(evals, names) + '<p class="note">Best value of each row in bold. n/a: no objects in '
         "that bucket (pycocotools' -1).</p>"),
        ("Metrics per size bucket", _buckets(evals, names) + '<p class="note">Size = sqrt(area) of the object. AP and '
         "AR over IoU 0.50:0.95 (COCO buckets: 100 predictions per image and class; AI-TOD buckets: the AI-TOD cap); "
         "AP centre: matched by centre distance.</p>"),
        ("PR curves per size bucket (IoU 0.5)", f'<img alt="PR curves" src="{plots.pr_curves(curves, buckets)}">'),
        ("Recall against object size", f'<img alt="recall against size" src="{plots.recall_vs_size(size_recall)}">'
         '<p class="note">All predictions (the 100 best per image and class), IoU 0.5 (solid) and centre distance '
         "within half the object size (dashed).</p>"),
        ("Error breakdown", _errors(evals, names, breakdowns) + '<p class="note">False positives at the best-F1 '
         "confidence: duplicate (IoU >= 0.5 with an object of its class already found), localisation (best IoU 0.1-0.5 "
         "with its class), classification (overlaps only another class), background (IoU < 0.1 with everything); "
         "missed: objects not found.</p>"),
        ("Confusion matrices (IoU 0.5, best-F1 confidence)", f'<div class="grid">{matrices}</div>'),
        ("Per-class AP", _per_class(evals, names) + f'<p class="note">Classes: {_e(", ".join(class_names))}.</p>'),
        ("Sample pictures", _samples(evals, names, confs, n_samples)),
    ]
    if history:
        sections.append(("Training curves (ultralytics' own validation, results.csv)", f'<img alt="training curves" src="{history}">'))
    runs_text = ", ".join(f"{n} ({ev.run.run_dir})" for n, ev in zip(names, evals))
    body = "".join(f'<section><h2>{_e(t)}</h2>{content}</section>' for t, content in sections)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style>'
        f"<script>{HEAD_SCRIPT}</script></head><body>"
        f'<header><h1>{_e(title)}</h1><p>{_e(runs_text)}</p></header><div id="js-error"></div><main>{body}</main>'
        f"<script>{BODY_SCRIPT}</script></body></html>"
    )


def build_report(run_dirs: Sequence[str | Path], split: str = "val", refresh: bool = False, n_samples: int = 6,
                 log: Callable[[str], None] = print) -> str:
    """Evaluate each run (or read its cache) and return the report page."""
    evals = [evaluate_run(r, split=split, refresh=refresh, log=log) for r in run_dirs]
    return render(evals, n_samples)


def write_report(run_dirs: Sequence[str | Path], out: str | Path, **kwargs) -> Path:
    """Build the report and write it atomically to `out`."""
    out = Path(out)
    write_atomic(out, build_report(run_dirs, **kwargs))
    return out
