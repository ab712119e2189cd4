"""Pascal VOC: `Annotations/<id>.xml` per image, `JPEGImages/`, `ImageSets/Main/<split>.txt` listing ids.

Box convention: VOC's `xmin ymin xmax ymax` are 1-based pixel indices, inclusive, so the box in continuous
pixel coordinates is (xmin - 1, ymin - 1, xmax, ymax) (as Detectron2 reads it); the writer does the inverse,
so VOC -> tinydet -> VOC gives the same numbers. VOC readers expect integers, so the writer rounds corners to
the nearest pixel edge (a box stays at least 1 px) and warns how many boxes moved and by how much; <depth> is
the image's channel count (1 for grayscale). Without `ImageSets/Main`, every XML file is one 'train'
split. Class order: `ReadOptions.names`, else `labels.txt` in the dataset folder (the writer puts one there),
else the sorted names found in the XML files. Objects marked `<difficult>1</difficult>` follow
`ReadOptions.voc_difficult`. Problems name the XML file and the line of the element.
"""

from __future__ import annotations

import warnings
import xml.parsers.expat
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from tinydet.data.dataset import Dataset
from tinydet.data.datayaml import IMAGE_SUFFIXES
from tinydet.data.formats.common import (
    checked_image,
    copy_image,
    floats,
    progress,
    read_names,
    relative_paths,
    select_splits,
)
from tinydet.data.formats.registry import FORMATS, Format
from tinydet.data.images import channel_count
from tinydet.data.options import ReadOptions
from tinydet.data.validate import DataWarning, ProblemLog, checked_labels
from tinydet.errors import DataError


@dataclass
class Node:
    """An XML element with the line it starts on."""

    tag: str
    line: int
    children: list["Node"] = field(default_factory=list)
    text: str = ""

    def find(self, tag: str) -> "Node | None":
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> list["Node"]:
        return [c for c in self.children if c.tag == tag]

    def value(self, tag: str, default: str | None = None) -> str | None:
        child = self.find(tag)
        return default if child is None else child.text.strip()


def parse_xml(path: Path) -> Node:
    """Parse an XML file into Nodes that remember their line numbers. Raises DataError (file, line)."""
    parser = xml.parsers.expat.ParserCreate()
    stack: list[Node] = []
    root: list[Node] = []

    def start(tag, _attrs):
        node = Node(tag, parser.CurrentLineNumber)
        (stack[-1].children if stack else root).append(node)
        stack.append(node)

    def end(_tag):
        stack.pop()

    def text(data):
        if stack:
            stack[-1].text += data

    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    try:
        with open(path, "rb") as f:
            parser.ParseFile(f)
    except xml.parsers.expat.ExpatError as e:
        raise DataError(f"not valid XML ({xml.parsers.expat.ErrorString(e.code)})", path, e.lineno) from None
    return root[0]


def _split_ids(root: Path, splits) -> dict[str, list[str]]:
    sets = root / "ImageSets" / "Main"
    found = {}
    if sets.is_dir():
        for split in ("train", "val", "test"):
            if (sets / f"{split}.txt").is_file():
                found[split] = (sets / f"{split}.txt").read_text().split()
        if "train" not in found and (sets / "trainval.txt").is_file():
            found["train"] = (sets / "trainval.txt").read_text().split()
    if not found:
        found["train"] = sorted(p.relative_to(root / "Annotations").with_suffix("").as_posix()
                                for p in (root / "Annotations").rglob("*.xml"))
    return select_splits(found, splits, root)


def _image_for(root: Path, image_id: str, filename: str | None) -> Path:
    folder = root / "JPEGImages"
    if filename and (folder / Path(image_id).parent / filename).is_file():
        return folder / Path(image_id).parent / filename
    for suffix in (".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG"):
        if (folder / f"{image_id}{suffix}").is_file():
            return folder / f"{image_id}{suffix}"
    for candidate in sorted(folder.glob(f"{image_id}.*")):
        if candidate.suffix.lower() in IMAGE_SUFFIXES:
            return candidate
    return folder / (filename or f"{image_id}.jpg")


def _class_names(root: Path, docs: dict[Path, Node], options: ReadOptions) -> list[str]:
    if options.names:
        return list(options.names)
    if (root / "labels.txt").is_file():
        return read_names(root / "labels.txt")
    found = {obj.value("name", "") for doc in docs.values() for obj in doc.findall("object")}
    return sorted(n for n in found if n)


def read_voc(path: str | Path, splits: tuple[str, ...] | None = None, log: ProblemLog | None = None,
             options: ReadOptions = ReadOptions()) -> Dataset:
    """Read a VOC folder (the one holding Annotations/ and JPEGImages/)."""
    log = log if log is not None else ProblemLog(strict=True)
    root = Path(path).absolute()
    if not (root / "Annotations").is_dir():
        raise DataError("not a VOC folder (no Annotations/ folder)", root)
    ids = _split_ids(root, splits)
    docs: dict[Path, Node] = {}
    for split, split_ids in ids.items():
        for image_id in progress(split_ids, f"parse {split}"):
            xml_path = root / "Annotations" / f"{image_id}.xml"
            if xml_path in docs:
                continue
            if not xml_path.is_file():
                log.add("missing_labels_file", f"annotation file for id '{image_id}' not found", xml_path)
                continue
            try:
                docs[xml_path] = parse_xml(xml_path)
            except DataError as e:
                log.add("bad_file", e.reason, e.file, e.line)
    names = _class_names(root, docs, options)
    dataset = Dataset(names=names, format="voc", source=root)
    index = {n: i for i, n in enumerate(names)}
    for split, split_ids in ids.items():
        records = []
        for image_id in progress(split_ids, f"read {split}"):
            xml_path = root / "Annotations" / f"{image_id}.xml"
            if xml_path in docs:
                labels = _read_one(root, image_id, xml_path, docs[xml_path], index, log, options)
                if labels is not None:
                    records.append(labels)
        dataset.splits[split] = records
    return dataset


def _read_one(root, image_id, xml_path, doc, index, log, options):
    image = _image_for(root, image_id, doc.value("filename")).absolute()
    size = checked_image(image, log, options.decode)
    if size is None:
        return None
    width, height = size
    size_node = doc.find("size")
    if size_node is not None:
        declared = (size_node.value("width"), size_node.value("height"))
        try:
            dw, dh = (int(float(v)) for v in declared)
        except (TypeError, ValueError):
            dw = dh = 0  # missing or empty: some tools write none; the image header decides
        if dw > 0 and dh > 0 and (dw, dh) != (width, height):
            log.add("size_mismatch", f"<size> says {dw}x{dh} px but the image is {width}x{height} px",
                    xml_path, size_node.line)
            return None
    boxes, classes, ignore, lines = [], [], [], []
    for obj in doc.findall("object"):
        name = obj.value("name", "")
        if name not in index:
            log.add("class_id", f"class name '{name}' is not in names ({', '.join(index)})", xml_path, obj.line)
            continue
        difficult = obj.value("difficult", "0") in ("1", "true")
        if difficult and options.voc_difficult == "drop":
            continue
        bnd = obj.find("bndbox")
        coords = [None if bnd is None else bnd.value(t) for t in ("xmin", "ymin", "xmax", "ymax")]
        if bnd is None or None in coords:
            log.add("columns", "object needs <bndbox> with xmin, ymin, xmax, ymax", xml_path,
                    obj.line if bnd is None else bnd.line)
            continue
        values = floats(coords, log, xml_path, bnd.line, context=" in <bndbox>")
        if values is None:
            continue
        x1, y1, x2, y2 = values
        boxes.append((x1 - 1, y1 - 1, x2, y2))
        classes.append(index[name])
        ignore.append(difficult and options.voc_difficult == "ignore")
        lines.append(obj.line)
    return checked_labels(image, width, height, np.array(boxes, np.float64).reshape(-1, 4),
                          np.array(classes, np.int64), len(index), log, lambda i: (xml_path, lines[i], ""),
                          ignore=np.array(ignore, bool), label_file=xml_path)



def voc_corners(boxes: np.ndarray) -> np.ndarray:
    """int64 [N, 4] VOC xmin, ymin, xmax, ymax (1-based, inclusive) of boxes xyxy [N, 4] in continuous pixels:
    corners rounded to the nearest pixel edge, and at least one pixel wide and high."""
    edges = np.rint(np.asarray(boxes, np.float64).reshape(-1, 4)).astype(np.int64)
    edges[:, 2:] = np.maximum(edges[:, 2:], edges[:, :2] + 1)
    edges[:, :2] += 1
    return edges


def voc_xml(file_name: str, width: int, height: int, depth: int, corners, classes, ignore, names) -> str:
    """One VOC annotation; `corners` are `voc_corners`, `depth` the image's channels. Ignore regions become
    difficult objects."""
    objects = []
    for (x1, y1, x2, y2), c, ign in zip(corners.tolist(), classes, ignore):
        objects.append(
            f"  <object>\n    <name>{escape(names[c])}</name>\n    <pose>Unspecified</pose>\n"
            f"    <truncated>0</truncated>\n    <difficult>{int(ign)}</difficult>\n    <bndbox>\n"
            f"      <xmin>{x1}</xmin>\n      <ymin>{y1}</ymin>\n"
            f"      <xmax>{x2}</xmax>\n      <ymax>{y2}</ymax>\n    </bndbox>\n  </object>\n"
        )
    return (f"<annotation>\n  <folder>JPEGImages</folder>\n  <filename>{escape(file_name)}</filename>\n"
            f"  <size>\n    <width>{width}</width>\n    <height>{height}</height>\n    <depth>{depth}</depth>\n"
            f"  </size>\n  <segmented>0</segmented>\n{''.join(objects)}</annotation>\n")


def write_voc(dataset: Dataset, root: Path) -> Path:
    """Write `dataset` into the empty folder `root` in VOC layout (+ labels.txt with the class order).

    Image ids are the image paths relative to their split's folder; if two splits hold different images
    under the same id, every id is prefixed with its split (`train/0001`). Regions that ignore every class
    (class -1) have no VOC form and are dropped, with a warning.
    """
    plan = {split: relative_paths([im.file for im in images]) for split, images in dataset.splits.items()}
    owner: dict[str, Path] = {}
    clash = False
    for split, images in dataset.splits.items():
        for im, rel in zip(images, plan[split]):
            key = rel.with_suffix("").as_posix()
            clash |= owner.setdefault(key, im.file) != im.file
    (root / "Annotations").mkdir(parents=True)
    (root / "ImageSets" / "Main").mkdir(parents=True)
    dropped = rounded = 0
    largest_move = 0.0
    for split, images in dataset.splits.items():
        ids = []
        for im, rel in progress(zip(images, plan[split]), f"write {split}", total=len(images)):
            rel = (Path(split) / rel) if clash else Path(rel)
            image_id = rel.with_suffix("").as_posix()
            ids.append(image_id)
            copy_image(im.file, root / "JPEGImages" / rel)
            keep = im.classes >= 0
            dropped += int((~keep).sum())
            xml_file = root / "Annotations" / f"{image_id}.xml"
            xml_file.parent.mkdir(parents=True, exist_ok=True)
            corners = voc_corners(im.boxes[keep])
            held = corners.astype(np.float64) - [1, 1, 0, 0]  # the box the XML holds, in continuous pixels
            moved = np.abs(held - im.boxes[keep]).max(axis=1, initial=0)
            rounded += int((moved > 1e-6).sum())
            largest_move = max(largest_move, float(moved.max(initial=0)))
            xml_file.write_text(voc_xml(rel.name, im.width, im.height, channel_count(im.file), corners,
                                        im.classes[keep], im.ignore_mask[keep], dataset.names))
        (root / "ImageSets" / "Main" / f"{split}.txt").write_text("".join(f"{i}\n" for i in dict.fromkeys(ids)))
    (root / "labels.txt").write_text("".join(f"{n}\n" for n in dataset.names))
    if dropped:
        warnings.warn(f"{dropped} ignore regions for every class dropped: VOC has no such regions", DataWarning)
    if rounded:
        warnings.warn(f"VOC stores whole pixels: {rounded} {'box' if rounded == 1 else 'boxes'} moved to the nearest "
                      f"pixel edge (by at most {largest_move:.3g} px)", DataWarning)
    return root


FORMATS.add("voc", Format(read=read_voc, write=lambda dataset, root, options: write_voc(dataset, root)))
