"""`tinydet demo` (run.py; its budget: options.py): the main job on built-in data, end to end, in about ten minutes on a laptop CPU.

Makes a synthetic tiny-object dataset, trains a plain YOLOv8n and tinydet's small-object model under the same
budget (epochs, image size, batch, seed), evaluates both with tinydet's metrics, and writes under `out`:
`data/` (the dataset), `runs/<model>/` (training runs), `results.md` and `results.json` (the comparison) and
`predictions.jpg` (ground truth and both models' boxes on one validation image).

Re-running reuses finished runs and resumes interrupted ones.
"""

