"""The upper tier of the ultralytics door: what training composes on ultralytics' trainers (tinydet/train
imports it; nothing below train/ does). The recipe travels with the trainer as a callback object (RecipeCallback):
ultralytics passes callbacks to its trainer, and pickles them (cloudpickle) into the script it launches for
multi-GPU DDP, which deletes the run folder before starting; so the recipe survives where a file would not.
"""
