"""Augmentations keep every label on its pixels: checked by drawing objects as solid blocks."""

import numpy as np

from tinydet.train.augment import geometric_mixup, mixup_ratio, paste_small_objects, small_object_patches


def scene(h, w, boxes, value):
    img = np.zeros((h, w, 3), np.uint8)
    for x1, y1, x2, y2 in boxes.astype(int):
        img[y1:y2, x1:x2] = value
    return img


def test_geometric_mixup_keeps_geometry_and_both_label_sets():
    boxes_a = np.array([[2, 3, 10, 9], [30, 40, 45, 60]], np.float32)
    boxes_b = np.array([[50, 5, 58, 15]], np.float32)
    a, b = scene(64, 48, boxes_a, 200), scene(40, 80, boxes_b, 100)
    img, boxes, cls, kps = geometric_mixup(a, boxes_a, [0, 1], b, boxes_b, [2], ratio=0.6)
    assert img.shape == (64, 80, 3) and kps is None
    assert boxes.tolist() == boxes_a.tolist() + boxes_b.tolist() and cls.tolist() == [0, 1, 2]
    for (x1, y1, x2, y2), expected in zip(boxes.astype(int), [120, 120, 40]):
        assert (img[y1:y2, x1:x2] == expected).all()  # each object is exactly under its box, blended
    mask = np.zeros(img.shape[:2], bool)
    for x1, y1, x2, y2 in boxes.astype(int):
        mask[y1:y2, x1:x2] = True
    assert (img[~mask] == 0).all()  # nothing outside the boxes


def test_geometric_mixup_carries_keypoints():
    kp_a = np.array([[[5.0, 6.0, 2.0]]])
    kp_b = np.array([[[1.0, 1.0, 2.0]]])
    *_, kps = geometric_mixup(np.zeros((8, 8, 3), np.uint8), [[0, 0, 4, 4]], [0], np.zeros((8, 8, 3), np.uint8),
                              [[1, 1, 2, 2]], [1], 0.5, kp_a, kp_b)
    assert kps.tolist() == [[[5, 6, 2]], [[1, 1, 2]]]


def test_mixup_ratio_is_beta_1_5():
    rng = np.random.default_rng(0)
    r = np.array([mixup_ratio(rng) for _ in range(20000)])
    assert abs(r.mean() - 0.5) < 0.01 and abs(r.var() - 1 / 16) < 0.003  # Beta(1.5, 1.5): var = 1/16


def test_copy_paste_puts_objects_where_nothing_was():
    boxes = np.array([[4, 4, 12, 10], [40, 40, 90, 90]], np.float32)  # one small, one large
    img = scene(128, 128, boxes[:1], 250)
    img[40:90, 40:90] = 120
    patches = small_object_patches(img, boxes, np.array([3, 1]), max_size=20)
    assert len(patches) == 1 and patches[0].cls == 3 and patches[0].pixels.shape == (6, 8, 3)
    out, new_boxes, cls, _ = paste_small_objects(img, boxes, [3, 1], patches * 5, np.random.default_rng(1), max_paste=5)
    assert (img[4:10, 4:12] == 250).all() and img.sum() == scene(128, 128, boxes[:1], 250).sum() + 120 * 3 * 2500
    assert len(new_boxes) == 7 and cls.tolist() == [3, 1, 3, 3, 3, 3, 3]
    for x1, y1, x2, y2 in new_boxes[2:].astype(int):
        assert (out[y1:y2, x1:x2] == 250).all()  # pasted pixels are the object's
    for i in range(len(new_boxes)):
        for j in range(i + 1, len(new_boxes)):
            a, b = new_boxes[i], new_boxes[j]
            assert min(a[2], b[2]) <= max(a[0], b[0]) or min(a[3], b[3]) <= max(a[1], b[1])  # no overlaps


def test_copy_paste_moves_keypoints_with_the_patch():
    boxes = np.array([[10, 10, 16, 16]], np.float32)
    kps = np.array([[[13.0, 13.0, 2.0]]], np.float32)
    img = scene(64, 64, boxes, 255)
    patches = small_object_patches(img, boxes, [0], 32, kps)
    _, nb, _, nk = paste_small_objects(img, boxes, [0], patches, np.random.default_rng(0), keypoints=kps)
    assert len(nb) == 2
    cx, cy = (nb[1, 0] + nb[1, 2]) / 2, (nb[1, 1] + nb[1, 3]) / 2
    assert nk[1, 0, :2].tolist() == [cx, cy]


def test_patch_larger_than_image_is_skipped():
    img = np.zeros((8, 8, 3), np.uint8)
    big = small_object_patches(np.ones((20, 20, 3), np.uint8), np.array([[0, 0, 20, 20]]), [0], 32)
    out, b, c, _ = paste_small_objects(img, np.zeros((0, 4)), [], big, np.random.default_rng(0))
    assert len(b) == 0 and (out == img).all()
