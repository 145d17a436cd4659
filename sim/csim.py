"""The HLS C++ IP run on the PC: the `csim` backend and `lenet csim`.

The very C++ that Vitis HLS synthesizes (``hls_src/lenet.cpp``), built with
g++ into a shared library (cached under ``build/csim``) and driven one job at
a time through ctypes, exactly as the board is driven: COMMAND, COUNT, the
input words with their TLAST flags, then the output words and the three
status registers. So the C++ is checked against the golden model before
synthesis, in the same jobs the driver sends: `lenet bench --backend csim`
classifies through it, `make csim-full` checks it on all 10,000 test
images, `lenet csim tb` runs the C++ testbench on exported vectors, and its
per-layer dumps feed `lenet compare`.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import blob, dumps, golden, mnist, weights
from .. import contract as C
from ..classifier import Classification
from ..errors import LenetError
from ..images import as_images
from ..ip_model import pack_images
from ..progress import step
from ..report import positive_int
from . import paths

HLS_SRC = paths.HLS_SRC
SHIM = HLS_SRC / "csim_shim"
DEFAULT_BUILD = paths.BUILD_ROOT / "csim"
IP_SOURCES = ("lenet.cpp",)
LIB_SOURCES = IP_SOURCES + ("lenet_csim_api.cpp",)
TB_SOURCES = IP_SOURCES + ("tb_lenet.cpp",)

# The ap_int headers warn about their own internals (uninitialized bits of
# ap_private, deprecated copies); -isystem silences most, these the rest.
# Unknown pragmas and unused labels are the HLS directives and loop names.
CXXFLAGS = ("-std=c++14", "-O2", "-Wall", "-Wextra", "-Wno-unknown-pragmas", "-Wno-unused-label",
            "-Wno-uninitialized", "-Wno-maybe-uninitialized")

LAYER_SHAPES = dict(C.ACTIVATIONS)  # per-image shape of each traced layer, in the trace hook's order


def ap_types_dir() -> Path:
    """The folder holding ap_int.h: the hls4ml wheel's copy of Xilinx's Apache-licensed headers."""
    spec = importlib.util.find_spec("hls4ml")
    if spec is None or not spec.origin:
        raise LenetError("the C-sim needs the ap_int headers from the hls4ml package: run `make setup` "
                         "(or `pip install --no-deps hls4ml`)")
    package = Path(spec.origin).parent
    for candidate in (package / "templates" / "vivado" / "ap_types", *package.glob("**/ap_types")):
        if (candidate / "ap_int.h").is_file():
            return candidate
    raise LenetError(f"{package}: no ap_types/ap_int.h inside the installed hls4ml; reinstall it with "
                     "`pip install --force-reinstall --no-deps hls4ml`")


def _compiler() -> str:
    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None:
        raise LenetError(f"no C++ compiler {cxx!r} on PATH: install g++ (e.g. `apt-get install g++`) or set CXX")
    return cxx


def build(kind: str = "lib", build_dir: str | Path | None = None) -> Path:
    """Compile the C-sim library (``kind="lib"``) or testbench (``"tb"``); cached by a hash of sources and flags."""
    if not (HLS_SRC / "lenet.cpp").is_file():
        raise LenetError(f"{HLS_SRC}: the HLS sources are missing; the csim backend runs from a source checkout")
    sources = LIB_SOURCES if kind == "lib" else TB_SOURCES
    cxx = _compiler()
    flags = [*CXXFLAGS, "-I", str(SHIM), "-I", str(HLS_SRC), "-isystem", str(ap_types_dir())]
    if kind == "lib":
        flags += ["-shared", "-fPIC"]
    digest = hashlib.sha256(" ".join([cxx, *flags]).encode())
    for path in sorted(HLS_SRC.glob("*.[ch]*")) + sorted(SHIM.glob("*.h")):
        digest.update(path.name.encode() + path.read_bytes())
    out_dir = Path(build_dir) if build_dir else DEFAULT_BUILD
    out = out_dir / f"{'liblenet_csim' if kind == 'lib' else 'tb_lenet'}-{digest.hexdigest()[:12]}" \
                    f"{'.so' if kind == 'lib' else ''}"
    if out.is_file():
        return out
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")  # concurrent builds never see a half-written file
    cmd = [cxx, *flags, *(str(HLS_SRC / s) for s in sources), "-o", str(tmp)]
    result = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise LenetError(f"building the C-sim {kind} failed:\n{' '.join(cmd)}\n{result.stderr[-4000:]}")
    tmp.replace(out)
    return out


class JobResult(NamedTuple):
    """What one job left: output words and TLAST flags, the three status registers, unread input words."""

    words: np.ndarray  # uint32, the trailer last
    last: np.ndarray  # bool, one per output word
    status: int
    weights_crc: int
    images_done: int
    unread: int  # input words after the first TLAST, which the IP did not consume

    @property
    def error_name(self) -> str:
        return C.error_name(self.status)


class CsimLenet:
    """The HLS C++ IP built with g++, a :class:`~lenet_pynq.classifier.Classifier`.

    Each instance loads a private copy of the library: one IP at power-on (no
    weights), independent of other instances. :meth:`job` runs any job,
    malformed ones included; ``last`` gives per-word TLAST flags (default:
    TLAST on the final word), and there must be one, as the IP consumes its
    input up to TLAST.
    """

    label = "C-sim"
    integer = True

    def __init__(self, build_dir: str | Path | None = None) -> None:
        lib_path = build("lib", build_dir)
        # dlopen returns the same handle for the same path, and the IP's state
        # (weights, valid flag) is static: a private copy gives a private IP.
        fd, private = tempfile.mkstemp(prefix="lenet_csim_", suffix=".so", dir=lib_path.parent)
        os.close(fd)
        try:
            shutil.copyfile(lib_path, private)
            self._lib = ctypes.CDLL(private)
        finally:
            os.unlink(private)
        self._lib.lenet_csim_job.restype = ctypes.c_long
        self._lib.lenet_csim_job.argtypes = [
            ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long,
            ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long, ctypes.c_void_p, ctypes.POINTER(ctypes.c_long)]
        self._lib.lenet_csim_trace.restype = None
        self._lib.lenet_csim_trace.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long]
        self.library = lib_path
        self.weights_crc = 0

    def __repr__(self) -> str:
        return f"CsimLenet({self.library.name}, WEIGHTS_CRC {self.weights_crc:#010x})"

    def job(self, command: int, count: int = 0, words=(), last=None) -> JobResult:
        words = np.ascontiguousarray(np.asarray(words, dtype=np.int64).reshape(-1))
        if words.size and (words.min() < 0 or words.max() > 0xFFFFFFFF):
            raise ValueError("stream words must be 32-bit unsigned values")
        words = words.astype(np.uint32)
        if last is None:
            last = np.zeros(words.size, np.uint8)
            last[-1:] = 1
        last = np.ascontiguousarray(np.asarray(last, dtype=bool).reshape(-1), dtype=np.uint8)
        if last.size != words.size:
            raise ValueError(f"last has {last.size} flags for {words.size} words")
        if not last.any():
            raise ValueError("the job's input has no TLAST: the IP would wait for one forever")
        cap = C.RESULT_WORDS * min(int(count) & 0xFFFFFFFF, C.MAX_COUNT) + 1
        out = np.zeros(cap, np.uint32)
        out_last = np.zeros(cap, np.uint8)
        regs = np.zeros(3, np.uint32)
        unread = ctypes.c_long(0)
        n = self._lib.lenet_csim_job(command & 0xFFFFFFFF, count & 0xFFFFFFFF, words.ctypes.data,
                                     last.ctypes.data, words.size, out.ctypes.data, out_last.ctypes.data, cap,
                                     regs.ctypes.data, ctypes.byref(unread))
        if n < 0:
            raise LenetError(f"C-sim job (command {command}, count {count}) wrote more than the "
                             f"{cap} words the contract allows; the IP breaks section 4")
        self.weights_crc = int(regs[1])
        return JobResult(out[:n], out_last[:n].astype(bool), int(regs[0]), int(regs[1]), int(regs[2]),
                         unread.value)

    def load_weights(self, weights) -> int:
        """LOAD_WEIGHTS; returns WEIGHTS_CRC. ``weights``: bytes, a .bin path or a QuantizedLeNet."""
        if isinstance(weights, blob.QuantizedLeNet):
            data = blob.encode(weights)
        elif isinstance(weights, (str, Path)):
            data = blob.read_file(weights)
        else:
            data = bytes(weights)
        if len(data) % C.WORD_BYTES:
            raise LenetError(f"weights blob of {len(data)} bytes is not whole words; expected {C.BLOB_BYTES}")
        result = self.job(C.CMD_LOAD_WEIGHTS, 0, np.frombuffer(data, "<u4"))
        if result.status != C.ERR_OK:
            raise LenetError(f"C-sim refused the weights blob: {C.ERROR_TEXT.get(result.status, result.status)}")
        return result.weights_crc

    def classify(self, images: np.ndarray, batch_size: int | None = None) -> Classification:
        """Classify uint8 images in INFER jobs of at most ``batch_size`` images each (default: one job)."""
        x = _images(images)
        batch = batch_size or min(len(x), C.MAX_COUNT) or 1
        if not 1 <= batch <= C.MAX_COUNT:
            raise LenetError(f"batch {batch}: an INFER job holds 1 ... {C.MAX_COUNT} images")
        parts, seconds, sizes = [], [], []
        for start in range(0, len(x), batch):
            chunk = x[start:start + batch]
            t0 = time.perf_counter()
            result = self.job(C.CMD_INFER, len(chunk), pack_images(chunk))
            seconds.append(time.perf_counter() - t0)
            sizes.append(len(chunk))
            trailer = C.parse_trailer(int(result.words[-1])) if result.words.size else None
            if result.status != C.ERR_OK:
                raise LenetError(f"C-sim INFER of images {start} ... {start + len(chunk) - 1} failed: "
                                 f"{C.ERROR_TEXT.get(result.status, result.status)}"
                                 + ("; load weights first" if result.status == C.ERR_NO_WEIGHTS else ""))
            if trailer != (C.ERR_OK, len(chunk)):
                last = f"{int(result.words[-1]):#010x}" if result.words.size else "no word"
                raise LenetError(f"C-sim INFER of images {start} ... {start + len(chunk) - 1}: STATUS is OK but "
                                 f"the output ends with {last}, not the trailer (error 0, {len(chunk)} images); "
                                 "the IP breaks contract section 4")
            parts.append(result.words[:-1])
        table = (np.concatenate(parts) if parts else np.zeros(0, np.uint32)).reshape(-1, C.RESULT_WORDS)
        return Classification(table[:, 0].astype(np.int64), table[:, 1:].view(np.int32).copy(), seconds, sizes)

    def layers(self, images: np.ndarray, batch: int = 1000) -> dict[str, np.ndarray]:
        """Every activation of contract.ACTIVATIONS as the C++ computed it, plus "class"."""
        x = _images(images)
        n = len(x)
        per_image = np.array([int(np.prod(shape)) for shape in LAYER_SHAPES.values()], dtype=np.int64)
        buffers = [np.zeros((n, size), np.int32) for size in per_image]
        classes = []
        try:
            for start in range(0, n, batch):
                count = min(batch, n - start)
                pointers = (ctypes.c_void_p * len(buffers))(*(b[start:].ctypes.data for b in buffers))
                self._lib.lenet_csim_trace(pointers, per_image.ctypes.data, count)
                classes.append(self.classify(x[start:start + count]).classes)
        finally:
            self._lib.lenet_csim_trace(None, None, 0)
        out = {}
        for (name, shape), values in zip(LAYER_SHAPES.items(), buffers):
            dtype = np.int32 if name == "fc3" else np.uint8
            out[name] = values.astype(dtype).reshape(n, *shape)
        out["class"] = (np.concatenate(classes) if classes else np.zeros(0)).astype(np.uint8)
        return out

    def dump(self, images: np.ndarray, out_dir: str | Path, fracs: dict[str, int] | None = None) -> Path:
        """Write :meth:`layers` as a per-layer dump (contract section 7) for `lenet compare`."""

        return dumps.write(out_dir, self.layers(images), fracs, source=f"hls csim {self.library.name}")


def _images(images: np.ndarray) -> np.ndarray:

    return np.ascontiguousarray(as_images(images, "C-sim").reshape(-1, C.IMAGE_BYTES))


# --- command line (the Makefile's csim targets) ---------------------------------

def run_testbench(vectors: str | Path, build_dir: str | Path | None = None) -> int:
    """Build tb_lenet with g++ -O2 and run it on exported vectors; its exit status."""
    vectors = Path(vectors)
    if not (vectors / "vectors.json").is_file():
        raise LenetError(f"{vectors}: no test vectors (vectors.json); make them with "
                         f"`lenet export --out {vectors}` (a blob from `lenet quantize` first)")
    tb = build("tb", build_dir)
    print(f"running {tb.name} on {vectors}", flush=True)
    return subprocess.run([str(tb), str(vectors)], check=False).returncode


def check_full(blob_path: str | Path, count: int | None = None, data_dir: str | None = None) -> int:
    """The C-sim against the golden model on the MNIST test set: logits and class of every image."""

    q = blob.load(blob_path, require_manifest=False)
    images, labels = mnist.load("test", data_dir)
    if count is not None:
        images, labels = images[:count], labels[:count]
    t0 = time.perf_counter()
    with step(f"golden model on {len(images):,} images"):
        want = golden.run(q, images)
    t1 = time.perf_counter()
    with step("C-sim: build (cached) and load the weights"):
        ip = CsimLenet()
        crc = ip.load_weights(blob_path)
    t2 = time.perf_counter()
    with step(f"C-sim on {len(images):,} images"):
        got = ip.classify(images)
    t3 = time.perf_counter()
    bad_logits = np.flatnonzero((got.logits != want).any(axis=1))
    bad_class = np.flatnonzero(got.classes != golden.classify(want))
    correct = int((got.classes == labels).sum())
    n = len(images)
    print(f"C-sim vs golden on {n} MNIST test images (blob {blob_path}, WEIGHTS_CRC {crc:#010x}):")
    print(f"  logits differ: {bad_logits.size} images; class differs: {bad_class.size} images")
    print(f"  accuracy {correct}/{n} = {100 * correct / n:.2f}%")
    print(f"  time: C-sim {t3 - t2:.1f} s ({n / (t3 - t2):.0f} images/s), load {1e3 * (t2 - t1):.1f} ms, "
          f"golden {t1 - t0:.1f} s")
    if bad_logits.size or bad_class.size:
        first = int(np.concatenate([bad_logits, bad_class]).min())
        print(f"  first mismatch: image {first}: C-sim {got.logits[first].tolist()}, "
              f"golden {want[first].tolist()}; run `lenet csim dump` and `lenet compare`")
        return 1
    return 0


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="what", required=True, metavar="WHAT")
    tb = sub.add_parser("tb", help="build and run the C++ testbench on exported vectors")
    tb.add_argument("vectors", help="directory written by `lenet export`")
    full = sub.add_parser("full", help="C-sim vs golden model on the MNIST test set")
    full.add_argument("--blob", help="weights blob (default: the --weights-dir/--model-name one)")
    weights.add_arguments(full)
    full.add_argument("--count", type=positive_int, help="only the first COUNT test images")
    mnist.add_data_dir_argument(full)
    dump = sub.add_parser("dump", help="per-layer dump of the C-sim (contract section 7) for `lenet compare`")
    dump.add_argument("--blob", help="weights blob (default: the --weights-dir/--model-name one)")
    weights.add_arguments(dump)
    dump.add_argument("--vectors", help="take the images from this `lenet export` directory instead of MNIST")
    dump.add_argument("--count", type=positive_int, default=16, help="first COUNT MNIST test images (default 16)")
    dump.add_argument("--out", default="build/csim_dump", help="output directory (default build/csim_dump)")
    mnist.add_data_dir_argument(dump)


def run(args) -> int:
    if args.what == "tb":
        return run_testbench(args.vectors)
    if args.what == "full":
        return check_full(weights.find_blob(args, args.blob), args.count, args.data_dir)
    return _dump(args)


def _dump(args: argparse.Namespace) -> int:

    q = blob.load(weights.find_blob(args, args.blob), require_manifest=False)
    if args.vectors:
        path = Path(args.vectors) / "images.bin"
        if not path.is_file():
            raise LenetError(f"{args.vectors}: no images.bin; make the vectors with "
                             f"`lenet export --out {args.vectors}`")
        images = np.fromfile(path, np.uint8).reshape(-1, C.IMAGE_BYTES)
    else:
        images = mnist.load("test", args.data_dir)[0][:args.count]
    ip = CsimLenet()
    ip.load_weights(blob.encode(q))
    fracs = q.activation_fracs() if q.fracs else None
    out = ip.dump(images, args.out, fracs)
    print(f"wrote {out}: {len(images)} images, every layer as the C-sim computed it")
    return 0


def open_classifier(args=None) -> CsimLenet:
    """``lenet bench --backend csim``: the C-sim library, built on first use."""
    return CsimLenet()
