# The two commands of README.md. Each creates or reuses the project's virtual environment (.venv).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.tinydet-installed

.PHONY: demo test venv clean

# --no-cache-dir: torch's CUDA wheels from PyPI are several GB; a cached copy would double the disk it needs.
$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --no-cache-dir --upgrade pip
	$(VENV)/bin/python -m pip install --quiet --no-cache-dir -e ".[test]"
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/tinydet demo --out runs/demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

clean:
	rm -rf $(VENV) runs .pytest_cache
