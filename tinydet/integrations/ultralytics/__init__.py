"""The only door into ultralytics 8.4.190, in two tiers (docs/architecture.md).

Lower tier, for models, data and inference (imports nothing of tinydet above ops/ and nn/):

- `env`: the environment ultralytics reads when it is imported (offline, threads, settings folder), label cache
  paths, Pillow's own `Image.open`, and the hook that sets ultralytics up whenever anyone imports it. No torch.
- `runtime`: ultralytics set up (offline, all cores, a local font, user datasets never written), its
  assumptions checked, logs quietened on request.
- `builder`: `parse_model` extended to tinydet's modules (tinydet/nn), model building, GFLOPs, end-to-end heads.
- `checkpoints`: loading and saving checkpoints in ultralytics' format, and YOLO objects for them.
- `arguments`: ultralytics' training argument names, defaults and checks.

Upper tier, imported by tinydet/train only (`training/`): the recipe's criterion, the small-object validator,
the augmentation hook, distillation, sliced validation and atomic checkpoints on ultralytics' trainers.

This file imports nothing, so `env` stays importable without torch.
"""
