"""The ultralytics adapter of the recipe augmentations keeps every label on its pixels: a dataset of white
rectangles on black goes through the real hook on ultralytics' own training dataset."""

import cv2
import numpy as np
import pytest
import yaml


@pytest.fixture
def blocks_data(tmp_path):
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        (tmp_path / "images" / split).mkdir(parents=True)
        (tmp_path / "labels" / split).mkdir(parents=True)
        for i in range(6):
            img = np.zeros((96, 128, 3), np.uint8)
            lines = []
            for _ in range(4):
                w, h = rng.integers(4, 14, size=2)
                x, y = rng.integers(0, 128 - w), rng.integers(0, 96 - h)
                if img[max(0, y - 1) : y + h + 1, max(0, x - 1) : x + w + 1].any():
                    continue  # keep blocks apart, so each box holds exactly one block
                img[y : y + h, x : x + w] = 255
                lines.append(f"0 {(x + w / 2) / 128} {(y + h / 2) / 96} {w / 128} {h / 96}")
            cv2.imwrite(str(tmp_path / "images" / split / f"{i}.png"), img)
            (tmp_path / "labels" / split / f"{i}.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "data.yaml").write_text(yaml.safe_dump({"train": "images/train", "val": "images/val", "names": ["block"]}))
    return tmp_path / "data.yaml"


def test_hook_keeps_labels_on_pixels(blocks_data, tmp_path):
    from ultralytics.utils import callbacks

    from tinydet.integrations.ultralytics.training.augment import RecipeAugmentation

    from tinydet.integrations.ultralytics.training.criterion import RecipeCallback

    from tinydet.integrations.ultralytics.training.trainer import RecipeDetectionTrainer
    from tinydet.train.recipe import Recipe

    recipe = Recipe(geo_mixup=0.5, small_copy_paste=1.0, copy_paste_max=3)
    hooks = callbacks.get_default_callbacks()
    hooks[RecipeCallback.event].append(RecipeCallback(recipe))
    trainer = RecipeDetectionTrainer(overrides=dict(model="yolov8n.yaml", data=str(blocks_data), imgsz=128, device="cpu",
                                                    project=str(tmp_path), name="t", workers=0), _callbacks=hooks)
    trainer.model = trainer.get_model(cfg="yolov8n.yaml", verbose=False)
    dataset = trainer.build_dataset(trainer.data["train"], mode="train", batch=4)
    assert isinstance(dataset.get_image_and_label, RecipeAugmentation)
    np.random.seed(0)
    grew = 0
    for index in list(range(len(dataset))) * 3:
        label = dataset.get_image_and_label(index)
        instances = label["instances"]
        img = label["img"][..., 0].astype(np.float32)
        assert not instances.normalized and instances._bboxes.format == "xyxy"
        grew += len(instances.bboxes) > len(dataset.labels[index]["cls"])
        for x1, y1, x2, y2 in instances.bboxes:
            inside = img[int(round(y1)) : int(round(y2)), int(round(x1)) : int(round(x2))]
            assert inside.size and (inside > 0).all()  # a block (blended or pasted) covers the whole box
    assert grew > 0  # copy-paste did add objects
