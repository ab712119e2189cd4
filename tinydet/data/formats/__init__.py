"""Dataset formats: one reader and one writer per format, all through tinydet.data.dataset."""
