#!/usr/bin/env bash
# Stop a vendor make target early, saying what to do, when a tool is not on
# PATH. usage: check_tools.sh TOOL...   (vivado, vitis_hls)
# The release (2024.1) is checked inside the Tcl, where it costs no extra
# tool start-up; this only checks presence, before the target creates anything.
set -u
status=0
for tool in "$@"; do
  case "$tool" in
    vivado) product=Vivado ;;
    vitis_hls) product=Vitis_HLS ;;
    *) product=$tool ;;
  esac
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: '$tool' is not on PATH. This target needs AMD ${product//_/ } 2024.1, the" \
         "release the PYNQ-Z2 v3.1 image is built with: install it, run" \
         "'source <Xilinx install>/$product/2024.1/settings64.sh', then make again." >&2
    status=1
  fi
done
exit $status
