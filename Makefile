# `make test` and `make demo` each set up .venv (created if missing) and install the
# project into it in editable mode; the install re-runs only when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: test demo gpu-check ops-table clean

test: $(VENV)/.installed-test
	$(PY) -m pytest -q

demo: $(VENV)/.installed-demo
	$(PY) -m autograd_gpu.demo

# On a machine with an NVIDIA GPU, CuPy, numpy, pytest and a CUDA build of PyTorch already installed (it
# installs nothing): the suite on the real GPU, the demo on cuda and the cuda benchmark; see tools/gpu_check.sh.
gpu-check:
	bash tools/gpu_check.sh

# Rewrites the supported-ops table in README.md from autograd_gpu.ops.PUBLIC_OPS.
ops-table: $(VENV)/.installed-test
	$(PY) tools/gen_ops_table.py

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-%: pyproject.toml | $(PY)
	$(PY) -m pip install -e '.[$*]'
	touch $@

clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis
