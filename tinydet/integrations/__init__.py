"""Adapters to the libraries tinydet builds on. Only `ultralytics.py` touches ultralytics internals."""
