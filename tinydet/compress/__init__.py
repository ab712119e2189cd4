"""Model compression: structured channel pruning (tinydet/compress/prune.py) and knowledge distillation losses
for detection (tinydet/train/distill.py). Fine-tuning and distillation run through `tinydet train`.

    from tinydet.compress import prune_checkpoint
"""
