"""Pure functions on arrays and tensors, no I/O: box geometry, merging (NMS family), slicing grids."""
