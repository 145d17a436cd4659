"""`lenet selftest`: the board's bring-up in one command, one line per check.

In order, each line PASS or FAIL with what to do (SKIP where a check means
nothing off the board, or cannot run because an earlier one failed):

1. ``pynq``       pynq 3.1 and, on the board, the PYNQ v3.1 image (/boot/REVISION);
2. ``files``      the .bit and .hwh found, a pair (one base name), matching
                  their build record (``lenet.json``: SHA-256 of both);
3. ``design``     the IP's VLNV and the DMA's configuration, from the .hwh;
4. ``clock``      the PL clock FCLK0 at the contract's 100 MHz (pynq's ``Clocks``);
5. ``weights``    the blob loaded, WEIGHTS_CRC read back equal to its CRC word;
6. ``vectors``    shipped test images (the MNIST test set in the package)
                  classified with logits identical to the golden model's; the
                  output buffer is filled with a sentinel first, so stale data
                  cannot pass;
7. ``error``      a corrupted blob gives BAD_CRC, and the next job works;
8. ``throughput`` the IP and the DMA on pre-allocated buffers.

Any FAIL makes the exit status 1. A timeout's line carries the DMA and IP
status decoded and the probable causes (the driver's LenetTimeoutError).
Off the board the same checks run on the model device (``--backend
model``) or on the Verilog IP in a cocotb simulation (``--backend rtl``),
made by ``lenet bench``'s table of backend factories; the notebook's first
cell runs :func:`run_checks` on the board's overlay.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import blob, build_record, golden, mnist, weights
from .. import contract as C
from ..errors import LenetError
from ..report import positive_int
from . import bench
from .design import check_design
from .errors import LenetJobError

SENTINEL = 0xDEADBEEF  # fills the output buffer before the vectors: a stale word can never pass as a result
BOARD_IMAGE = Path("/boot/REVISION")  # "Release 3.1 (Carlisle) <date> <commit>" (PYNQ sdbuild/packages/pynq/pre.sh)
CLOCK_TOLERANCE_MHZ = 0.5


@dataclass
class Check:
    """One line of the self-test: ``status`` is "PASS", "FAIL" or "SKIP"."""

    status: str
    name: str
    text: str

    def __str__(self) -> str:
        return f"{self.status} {self.name:<10} {self.text}"

    @property
    def failed(self) -> bool:
        return self.status == "FAIL"


def check_pynq(on_board: bool) -> Check:
    try:
        import pynq
    except ImportError:
        return Check("FAIL", "pynq", "pynq is not importable: run in PYNQ's Python on the board "
                                     "(`source /etc/profile.d/pynq_venv.sh`), or `pip install 'lenet-pynq[model]'`")
    version = pynq.__version__
    if not version.startswith("3.1"):
        return Check("FAIL", "pynq", f"pynq {version}; the driver targets pynq 3.1 (the PYNQ-Z2's last image, "
                                     "v3.1): flash the v3.1 image")
    if not on_board:
        return Check("PASS", "pynq", f"pynq {version}; off the board (no PYNQ image)")
    image = BOARD_IMAGE.read_text().splitlines()[0].strip() if BOARD_IMAGE.is_file() else "unknown"
    if not image.startswith("Release 3.1"):
        return Check("FAIL", "pynq", f"pynq {version} on image {image!r}; this overlay is built for the PYNQ-Z2 "
                                     "v3.1 image (Vivado 2024.1): flash it")
    return Check("PASS", "pynq", f"pynq {version} on {image}")


def check_files(overlay, on_board: bool) -> Check:
    bit = Path(overlay.bitfile_name)
    hwh = bit.with_suffix(".hwh")
    missing = [p.name for p in (bit, hwh) if not p.is_file()]
    if missing:
        return Check("FAIL", "files", f"{' and '.join(missing)} missing beside {bit}: copy lenet.bit, lenet.hwh "
                                      "and lenet.json together from one `make bitstream`")
    try:  # the same check LeNetOverlay makes before it downloads anything
        record = build_record.check_pair(bit, hwh)
    except LenetError as e:
        return Check("FAIL", "files", f"{e}")
    built = f"Vivado {record.get('vivado_version', '?')}, git {str(record.get('git_commit', '?'))[:12]}"
    return Check("PASS", "files", f"{bit.name} + {hwh.name} match {build_record.record_path(bit).name} ({built})")


def check_design_of(overlay) -> Check:
    max_transfer = check_design(overlay.ip_dict)  # raises LenetConfigError naming the fix
    ip = overlay.ip_dict[C.BD_IP_NAME]
    return Check("PASS", "design", f"{C.BD_IP_NAME} {ip['type']} at {ip['phys_addr']:#010x}; {C.BD_DMA_NAME} "
                                   f"simple mode, transfers up to {max_transfer:,} bytes")


def check_clock(overlay, on_board: bool) -> Check:
    fclk0 = overlay.clock_dict.get(0, {})
    if not fclk0.get("enable"):
        return Check("FAIL", "clock", "the .hwh does not enable FCLK0, which clocks the IP and the DMA: "
                                      "rebuild with vivado_tcl/ (PCW_EN_CLK0_PORT)")
    if not on_board:
        return Check("SKIP", "clock", f"off the board no PL clock runs (the .hwh enables FCLK0, divisors "
                                      f"{fclk0.get('divisor0')} x {fclk0.get('divisor1')})")
    from pynq import Clocks

    mhz = Clocks.fclk0_mhz
    if abs(mhz - C.CLOCK_MHZ) > CLOCK_TOLERANCE_MHZ:
        return Check("FAIL", "clock", f"FCLK0 runs at {mhz:.2f} MHz, the contract's is {C.CLOCK_MHZ}: reload "
                                      "the overlay (pynq sets the clock from the .hwh), or rebuild it")
    return Check("PASS", "clock", f"FCLK0 at {mhz:.2f} MHz")


def check_weights(lenet, weights: Path) -> Check:
    crc = lenet.load_weights(weights)
    return Check("PASS", "weights", f"{weights.name} loaded, WEIGHTS_CRC {crc:#010x} read back")


def check_vectors(lenet, q, images: np.ndarray) -> Check:
    n = len(images)
    _, out = lenet.jobs.buffers(n * C.IMAGE_BYTES, n * C.RESULT_WORDS + 1)
    out[:] = SENTINEL
    out.flush()  # to DDR: the DMA must overwrite every word the job returns
    r = lenet.classify(images, batch_size=n)
    ref = golden.run(q, images)
    differ = np.flatnonzero((r.logits != ref).any(axis=1))
    if differ.size:
        return Check("FAIL", "vectors", f"logits differ from the golden model's on {differ.size} of {n} images "
                                        f"(first: test image {differ[0]}): dump both with `lenet export` and find "
                                        "the layer with `lenet compare`")
    if (r.classes != golden.classify(ref)).any():
        return Check("FAIL", "vectors", "the IP's class words disagree with the argmax of its logits: an IP bug")
    return Check("PASS", "vectors", f"{n} test images: logits identical to the golden model's "
                                    f"(output buffer pre-filled with {SENTINEL:#x})")


def check_error_probe(lenet, weights: Path, q, images: np.ndarray) -> Check:
    data = bytearray(Path(weights).read_bytes())
    data[C.PAYLOAD_END // 2] ^= 0xFF  # one payload byte: the CRC word no longer matches
    try:
        lenet.load_weights(bytes(data))
    except LenetJobError as e:
        if e.code != C.ERR_BAD_CRC:
            return Check("FAIL", "error", f"a corrupted blob gave {e.name}, expected BAD_CRC: the IP's CRC check "
                                          "is wrong")
    else:
        return Check("FAIL", "error", "the IP accepted a corrupted blob: its CRC check is missing")
    crc = lenet.load_weights(weights)  # the next job works, and gives the same integers again
    if not np.array_equal(lenet.classify(images, batch_size=len(images)).logits, golden.run(q, images)):
        return Check("FAIL", "error", "after a refused blob and a reload the logits differ from the golden "
                                      "model's: the IP keeps state across jobs it should not")
    return Check("PASS", "error", f"a corrupted blob gave BAD_CRC; reloaded (CRC {crc:#010x}), the next job's "
                                  f"{len(images)} results identical again")


def check_throughput(lenet, images: np.ndarray) -> Check:
    r = lenet.throughput(images, batch_size=len(images), repeats=3)
    note = "" if lenet.label == "FPGA" else f" (the {lenet.label}: not the board's speed)"
    return Check("PASS", "throughput", f"{r.images_per_second:,.0f} images/s, IP + DMA on pre-allocated buffers, "
                                       f"batches of {len(images)}, warm-up excluded{note}")


def run_checks(lenet, weights: str | Path, images: np.ndarray, on_board: bool) -> list[Check]:
    """Checks 2-8 on an open overlay's driver ``lenet``; each failure is one FAIL line and skips what needs it."""
    weights = Path(weights)
    overlay = lenet.overlay
    lines: list[Check] = []

    def attempt(name: str, check, *args) -> bool:
        try:
            lines.append(check(*args))
        except LenetError as e:  # timeouts included: their message holds the status decoded and the causes
            lines.append(Check("FAIL", name, str(e)))
        return not lines[-1].failed

    attempt("files", check_files, overlay, on_board)
    attempt("design", check_design_of, overlay)
    attempt("clock", check_clock, overlay, on_board)
    rest = ("vectors", "error", "throughput")
    if not attempt("weights", check_weights, lenet, weights):
        return lines + [Check("SKIP", name, "needs the weights loaded") for name in rest]
    q = blob.load(weights, require_manifest=False)
    if not attempt("vectors", check_vectors, lenet, q, images):
        return lines + [Check("SKIP", name, "needs the vectors to pass") for name in rest[1:]]
    attempt("error", check_error_probe, lenet, weights, q, images)
    attempt("throughput", check_throughput, lenet, images)
    return lines


# --- the command -----------------------------------------------------------------------

def add_arguments(p) -> None:
    p.add_argument("--backend", choices=("pynq", "model", "rtl"), default="pynq" if bench._on_board() else "model",
                   help="what is tested (default: pynq on the board, the model device elsewhere)")
    bench.add_weights_argument(p)
    weights.add_arguments(p, "where the blob is (<weights-dir>/<model-name>_int8.bin)")
    p.add_argument("--bitfile", default=None, help="pynq backend: the .bit to load (default: the installed lenet.bit)")
    p.add_argument("--count", type=positive_int, default=100,
                   help="test images classified and compared with the golden model (default 100; rtl: use ~8)")
    p.add_argument("--wait", choices=("poll", "interrupt"), default="poll",
                   help="how the driver waits for a job (default poll; interrupt needs an overlay with an axi_intc)")
    mnist.add_data_dir_argument(p)


def _open(args):
    module, factory = bench.BACKENDS[args.backend].split(":")
    lenet = getattr(importlib.import_module(module), factory)(args)
    if args.wait == "interrupt":
        lenet.use_interrupt()
    return lenet


def run(args) -> int:
    t0 = time.monotonic()
    on_board = args.backend == "pynq"
    lines = [check_pynq(on_board)]
    try:
        bench.require(args.backend)
        weights = bench.weights_blob(args)
        images = mnist.load("test", args.data_dir)[0][: args.count]
        lenet = _open(args)
    except LenetError as e:
        lines.append(Check("FAIL", "overlay", str(e)))
    else:
        if hasattr(lenet, "selftest"):  # the RTL: the checks run inside its simulation
            lines += lenet.selftest(weights, images)
        else:
            lines += run_checks(lenet, weights, images, on_board)
    counts = {s: sum(c.status == s for c in lines) for s in ("PASS", "FAIL", "SKIP")}
    lines.append(Check("FAIL" if counts["FAIL"] else "PASS", "summary",
                       f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped "
                       f"(--backend {args.backend}) in {time.monotonic() - t0:.1f} s"))
    for line in lines:
        print(line)
    return 1 if any(c.failed for c in lines) else 0
