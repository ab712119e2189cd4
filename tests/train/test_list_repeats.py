"""A training list that names an image twice (a hand-made oversampling list, or benchmarks/equal_steps_list.py):
training samples every entry, and the warning says so; a cleaned copy lists each image once, and says that."""

from __future__ import annotations

import shutil
import warnings

import yaml

from tinydet.data import DataWarning
from tinydet.data.datayaml import split_images
from tinydet.train.api import prepare_data


def list_dataset(tiny_data, tmp_path, repeated: int = 3):
    """A copy of tiny_data whose data.yaml's train split is a list naming the first image `repeated` times.
    Returns (data.yaml, number of list entries)."""
    root = tmp_path / "data"
    shutil.copytree(tiny_data.parent, root)
    images = sorted((root / "images" / "train").iterdir())
    listed = root / "train.txt"
    listed.write_text("".join(f"{p}\n" for p in [images[0]] * (repeated - 1) + images))
    data = root / "data.yaml"
    data.write_text(yaml.safe_dump(dict(yaml.safe_load(data.read_text()), train="train.txt")))
    return data, len(images) + repeated - 1


def data_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, DataWarning)]


def test_repeats_in_a_list_are_trained_and_the_warning_says_so(tiny_data, tmp_path):
    from ultralytics.utils import callbacks

    from tinydet.integrations.ultralytics.training.trainer import RecipeDetectionTrainer

    data, entries = list_dataset(tiny_data, tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config, sources = prepare_data(str(data), tmp_path / "run")
    texts = data_warnings(caught)
    assert config.yaml_path == data.resolve() and sources == {}  # trained from the user's list, no copy
    assert any("2 x duplicate_image" in t and "used as often as listed by ultralytics' training" in t for t in texts), texts

    trainer = RecipeDetectionTrainer(overrides=dict(model="yolov8n.yaml", data=str(data), imgsz=128, device="cpu",
                                                    project=str(tmp_path), name="t", workers=0),
                                     _callbacks=callbacks.get_default_callbacks())
    trainer.model = trainer.get_model(cfg="yolov8n.yaml", verbose=False)
    assert len(trainer.build_dataset(trainer.data["train"], mode="train", batch=4)) == entries


def test_a_cleaned_copy_drops_the_repeats_and_says_so(tiny_data, tmp_path):
    data, entries = list_dataset(tiny_data, tmp_path)
    label = sorted((data.parent / "labels" / "train").iterdir())[-1]
    label.write_text(label.read_text() + "0 0.5 0.5\n")  # too few columns: a fatal line, skipped with --skip-bad
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config, _ = prepare_data(str(data), tmp_path / "run", skip_bad=True)
    texts = data_warnings(caught)
    assert config.yaml_path != data.resolve()  # trained from the cleaned copy
    assert any("lists each image once: 2 repeated list entries" in t for t in texts), texts
    assert len(split_images(config.splits["train"])) == entries - 2
