"""MNIST from its IDX files, checked against the canonical SHA-256 sums.

Where the files are looked for (first match wins):

1. the ``data_dir`` argument (``--data-dir`` on the command line);
2. the directory in the environment variable ``LENET_MNIST_DIR``;
3. ``data/mnist`` under the current directory (what the Makefile uses);
4. for the test set only, when neither of the first two is given and
   ``data/mnist`` lacks it: the copy inside the package
   (``lenet_pynq/mnist_test/``, put into the wheel by ``make wheel``), so a
   board without internet needs no download.

Each of the four files may be raw (``train-images-idx3-ubyte``) or gzipped
(``train-images-idx3-ubyte.gz``). A missing file is downloaded (gzipped)
into that directory from the canonical site, falling back to mirrors. The
SHA-256 of the uncompressed bytes is checked on every load, so a corrupted
or truncated file is refused whatever its origin. Parsing reads the IDX
header and the raw bytes only: no pickle anywhere.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from . import contract
from .errors import LenetError

ENV_VAR = "LENET_MNIST_DIR"
DEFAULT_DIR = Path("data") / "mnist"
SHIPPED_TEST_DIR = Path(__file__).resolve().parent / "mnist_test"  # only in a wheel from `make wheel`

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SIZES = {"train": 60000, "test": 10000}

# SHA-256 of the uncompressed canonical files (shared/data/mnist/SHA256SUMS.uncompressed).
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

# The canonical site first, then the mirrors torchvision and TensorFlow use.
MIRRORS = [
    "https://yann.lecun.com/exdb/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
TIMEOUT_S = 30

_IDX_UBYTE = 0x08  # the only element type MNIST uses


def default_data_dir() -> Path:
    """LENET_MNIST_DIR if set, else data/mnist under the current directory."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else DEFAULT_DIR


def add_data_dir_argument(parser) -> None:
    """``--data-dir``, the same for every command that reads MNIST."""
    parser.add_argument("--data-dir", default=None,
                        help=f"MNIST directory (default: ${ENV_VAR}, else {DEFAULT_DIR})")


def load(split: str, data_dir: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 28, 28), labels uint8 (N,)) of split "train" or "test"."""
    if split not in FILES:
        raise LenetError(f"unknown MNIST split {split!r}: use 'train' or 'test'")
    d = Path(data_dir) if data_dir is not None else default_data_dir()
    if d.exists() and not d.is_dir():
        source = "--data-dir" if data_dir is not None else f"${ENV_VAR}" if os.environ.get(ENV_VAR) else "the default"
        raise LenetError(f"{source} {d} is a file, not a directory: point it at the directory that holds "
                         "the four MNIST IDX files")
    image_name, label_name = FILES[split]
    if (split == "test" and data_dir is None and not os.environ.get(ENV_VAR)
            and not all(_find(d, n) for n in FILES[split]) and all(_find(SHIPPED_TEST_DIR, n) for n in FILES[split])):
        d = SHIPPED_TEST_DIR
    images, labels = load_file(d, image_name), load_file(d, label_name)
    side = (contract.IMAGE_SIDE, contract.IMAGE_SIDE)
    if images.ndim != 3 or images.shape[1:] != side or labels.ndim != 1 or len(images) != len(labels):
        raise LenetError(f"{d}: {image_name} has shape {images.shape} and {label_name} {labels.shape}; "
                         f"expected (N, {side[0]}, {side[1]}) and (N,)")
    return images, labels


def load_file(data_dir: Path, name: str) -> np.ndarray:
    """The array in IDX file ``name`` of ``data_dir`` (downloaded if missing), SHA-256 checked."""
    path = _find(data_dir, name)
    if path is None:
        path = download(data_dir, name)
    data = _read(path)
    array = parse_idx(data, path)  # first, so that a truncated file is reported as such
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256[name]:
        raise LenetError(
            f"{path}: SHA-256 of the uncompressed data is {digest[:16]}..., expected {SHA256[name][:16]}...; "
            "the file is corrupted or not the canonical MNIST: delete it to download it again")
    return array


def parse_idx(data: bytes, where: Path | str = "<bytes>") -> np.ndarray:
    """An IDX file's bytes -> uint8 array of the shape its header gives."""
    if len(data) < 4:
        raise LenetError(f"{where}: {len(data)} bytes is too short for an IDX header")
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != _IDX_UBYTE or not 1 <= ndim <= 3:
        raise LenetError(f"{where}: not an unsigned-byte IDX file (magic {data[:4].hex()}, expected 0000080x)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise LenetError(f"{where}: truncated IDX header ({len(data)} bytes)")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise LenetError(f"{where}: {len(data)} bytes, but its header {shape} needs {expected}: "
                         "the file is truncated or corrupted; delete it to download it again")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def download(data_dir: Path, name: str) -> Path:
    """Fetch ``name``.gz into ``data_dir`` from the first mirror that has a good copy."""
    errors = []
    for base in MIRRORS:
        url = f"{base}{name}.gz"
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT_S) as r:
                payload = r.read()
            raw = gzip.decompress(payload)
        except (urllib.error.URLError, OSError, EOFError, zlib.error, ValueError) as e:
            errors.append(f"{url}: {getattr(e, 'reason', e)}")
            continue
        if hashlib.sha256(raw).hexdigest() != SHA256[name]:
            errors.append(f"{url}: SHA-256 mismatch")
            continue
        return _write_atomically(data_dir, f"{name}.gz", payload)
    raise LenetError(
        f"MNIST file {name} is not in {data_dir} and could not be downloaded ({'; '.join(errors)}); "
        f"copy the four IDX files there, or point --data-dir or {ENV_VAR} at a directory that has them")


def _find(data_dir: Path, name: str) -> Path | None:
    for candidate in (data_dir / name, data_dir / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise LenetError(f"{path}: not a valid gzip file ({e}); it is truncated or corrupted: "
                         "delete it to download it again") from None
    except OSError as e:
        raise LenetError(f"{path}: cannot read ({e.strerror or e})") from None


def _write_atomically(data_dir: Path, name: str, payload: bytes) -> Path:
    """Write via a temporary file so that an interrupted download leaves nothing half-written."""
    tmp = None
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=f".{name}.")
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, data_dir / name)
    except OSError as e:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise LenetError(f"{data_dir}: cannot save the downloaded {name} ({e.strerror or e}); "
                         f"choose a writable directory with --data-dir or {ENV_VAR}") from None
    return data_dir / name


# --- the `lenet mnist` command -----------------------------------------------

def add_arguments(parser) -> None:
    add_data_dir_argument(parser)


def run(args) -> int:
    """Check (downloading what is missing) all four files: `make test` runs it first, to stop at once."""
    d = Path(args.data_dir) if args.data_dir is not None else default_data_dir()
    counts = {split: len(load(split, d)[1]) for split in FILES}
    print(f"MNIST in {d}: {counts['train']:,} training and {counts['test']:,} test images, SHA-256 checked")
    return 0
