# lenet-pynq: LeNet-5 from NumPy training to an AXI-Stream IP on the PYNQ-Z2.
# `make demo` runs the main flow on a plain PC; `make test` runs the test suite.
# Vendor targets (hls, bitstream) need Vitis HLS / Vivado 2024.1 on PATH.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LENET := $(VENV)/bin/lenet
STAMP := $(VENV)/.installed

# MNIST: downloaded to data/mnist unless LENET_MNIST_DIR points at a copy.
export LENET_MNIST_DIR ?= $(CURDIR)/data/mnist

WEIGHTS_DIR := weights
MODEL := lenet
CKPT := $(WEIGHTS_DIR)/$(MODEL).json
BLOB := $(WEIGHTS_DIR)/$(MODEL)_int8.bin
VECTORS := build/vectors
EPOCHS ?= 5

.PHONY: help setup test demo train quantize export bench-train bench-golden \
        csim csim-full sim sim-bench sim-full estimate hls bitstream bench notebook clean

help:
	@echo "make demo      train, quantize and evaluate LeNet-5 (float vs int8) on MNIST"
	@echo "make test      run the whole test suite (installs what it needs first)"
	@echo "make setup     create $(VENV) with everything the tests need"
	@echo "make train | quantize | export | csim | sim | estimate | bench | notebook"
	@echo "make bench-train | bench-golden | sim-bench | sim-full | csim-full"
	@echo "make hls | bitstream [IP=hls|rtl]   (need Vitis HLS / Vivado 2024.1)"

# --- environment -------------------------------------------------------------

setup: $(STAMP)

$(STAMP): setup.py
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "error: Python 3.10+ is needed ($(PYTHON) is older); pass PYTHON=python3.X" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	# Only for Xilinx's Apache-licensed ap_int headers, used by the HLS C-sim.
	$(PY) -m pip install -q --no-deps hls4ml
	touch $@

test: $(STAMP)
	$(PY) -m pytest -q tests

# --- the main flow -----------------------------------------------------------

demo: $(STAMP)
	$(LENET) train --epochs $(EPOCHS) --weights-dir $(WEIGHTS_DIR) --model-name $(MODEL)
	$(LENET) test --weights-dir $(WEIGHTS_DIR) --model-name $(MODEL)

train: $(STAMP)
	$(LENET) train --epochs $(EPOCHS) --weights-dir $(WEIGHTS_DIR) --model-name $(MODEL)

bench-train: $(STAMP)
	$(PY) -m lenet_pynq.train.bench_train --batch-size 64

clean:
	rm -rf build results logs reports sim_build
