import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinydet.ops.slicing import tile_grid, tile_starts


@settings(max_examples=200, deadline=None)
@given(
    width=st.integers(1, 3000), height=st.integers(1, 3000), tile=st.integers(16, 1024),
    overlap=st.floats(0, 0.9),
)
def test_tiles_cover_every_pixel_and_stay_inside(width, height, tile, overlap):
    grid = tile_grid(width, height, tile, tile, overlap)
    assert (grid[:, 0] >= 0).all() and (grid[:, 1] >= 0).all()
    assert (grid[:, 2] <= width).all() and (grid[:, 3] <= height).all()
    assert ((grid[:, 2] - grid[:, 0]) == min(tile, width)).all()
    assert ((grid[:, 3] - grid[:, 1]) == min(tile, height)).all()
    covered_x = np.zeros(width, bool)
    for x1, x2 in np.unique(grid[:, [0, 2]], axis=0):
        covered_x[x1:x2] = True
    covered_y = np.zeros(height, bool)
    for y1, y2 in np.unique(grid[:, [1, 3]], axis=0):
        covered_y[y1:y2] = True
    assert covered_x.all() and covered_y.all()


def test_known_grid():
    assert tile_starts(1000, 400, 0.2).tolist() == [0, 320, 600]
    assert tile_starts(400, 400, 0.2).tolist() == [0]
    assert tile_starts(100, 400, 0.2).tolist() == [0]
    grid = tile_grid(1000, 500, 400, 400, 0.2)
    assert grid.tolist() == [[0, 0, 400, 400], [320, 0, 720, 400], [600, 0, 1000, 400],
                             [0, 100, 400, 500], [320, 100, 720, 500], [600, 100, 1000, 500]]


def test_neighbours_overlap_at_least_as_asked():
    starts = tile_starts(5000, 512, 0.25)
    assert (np.diff(starts) <= 512 - 128).all()


@pytest.mark.parametrize("tile, overlap, message", [(0, 0.1, "at least 1"), (10, 1.0, r"\[0, 1\)"), (10, -0.1, r"\[0, 1\)")])
def test_bad_arguments(tile, overlap, message):
    with pytest.raises(ValueError, match=message):
        tile_starts(100, tile, overlap)
