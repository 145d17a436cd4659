#!/usr/bin/env bash
# `make hls`: run hls_src/run_hls.tcl in Vitis HLS 2024.1, then put the IP and
# the reports where the bitstream flow expects them.
#
#   hls_src/make_hls.sh VECTORS_DIR
#
# Environment (defaults in brackets): LENET_HLS_BUILD [build/hls],
# LENET_HLS_IP_REPO [build/ip/hls], LENET_HLS_REPORTS [reports/hls],
# LENET_HLS_STEPS [csim csynth cosim export], PYTHON [python3].
set -euo pipefail

HLS_VERSION=2024.1 # the release the PYNQ-Z2 v3.1 image's Vivado matches
root=$(cd "$(dirname "$0")/.." && pwd)
vectors=${1:?usage: make_hls.sh VECTORS_DIR}
build=${LENET_HLS_BUILD:-$root/build/hls}
ip_repo=${LENET_HLS_IP_REPO:-$root/build/ip/hls}
reports=${LENET_HLS_REPORTS:-$root/reports/hls}
python=${PYTHON:-python3}

if ! command -v vitis_hls >/dev/null 2>&1; then
  echo "error: 'vitis_hls' is not on PATH. \`make hls\` needs AMD Vitis HLS $HLS_VERSION (part of the" \
       "Vitis $HLS_VERSION installer): install it, then 'source <Xilinx install>/Vitis/$HLS_VERSION/settings64.sh'" \
       "(or .../Vitis_HLS/$HLS_VERSION/settings64.sh) and run make hls again. Without it, \`make csim\`" \
       "runs the same C++ and testbench with g++." >&2
  exit 1
fi
version=$(vitis_hls -version 2>/dev/null | grep -o 'v20[0-9][0-9]\.[0-9]' | head -1 || true)
if [ "${version#v}" != "$HLS_VERSION" ]; then
  echo "warning: vitis_hls reports version '${version:-unknown}', not $HLS_VERSION: the IP may not match" \
       "the Vivado $HLS_VERSION that builds the bitstream for the PYNQ-Z2 v3.1 image" >&2
fi
# Resolved here, before any cd: a relative VECTORS_DIR (the Makefile's
# build/vectors) names a folder under the caller's working directory.
if [ ! -f "$vectors/vectors.json" ]; then
  echo "error: $vectors: no test vectors for the testbench (no vectors.json); run \`make export\`" \
       "(lenet export) first" >&2
  exit 1
fi
vectors=$(cd "$vectors" && pwd)

mkdir -p "$build"
build=$(cd "$build" && pwd) # Vitis runs in $build: every path it gets must not depend on the cwd
"$python" "$root/vivado_tcl/write_contract_tcl.py" "$build/lenet_contract.tcl"
(
  cd "$build"
  LENET_HLS_SRC="$root/hls_src" LENET_CONTRACT_TCL="$build/lenet_contract.tcl" \
  LENET_VECTORS="$vectors" LENET_IP_ZIP="$build/lenet_hls_ip.zip" \
    vitis_hls -f "$root/hls_src/run_hls.tcl" -l "$build/vitis_hls.log"
)

solution=$build/lenet_prj/solution1
mkdir -p "$reports"
for report in syn/report/lenet_csynth.rpt syn/report/lenet_csynth.xml sim/report/lenet_cosim.rpt; do
  if [ -f "$solution/$report" ]; then cp "$solution/$report" "$reports/"; fi
done
if [ -f "$build/lenet_hls_ip.zip" ]; then
  rm -rf "$ip_repo"
  mkdir -p "$ip_repo"
  "$python" -m zipfile -e "$build/lenet_hls_ip.zip" "$ip_repo"
  echo "HLS IP in $ip_repo, reports in $reports"
fi
