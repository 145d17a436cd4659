"""`lenet export`: test vectors for the hardware (docs/contract.md section 7).

From a weights blob and some MNIST images, writes everything a C-sim, an RTL
testbench or a board test needs to check itself against the golden model:
the two jobs' input and expected output words, the expected registers after
each job, and the golden per-layer dumps. The expected outputs come from the
device model and are checked against the golden model before being written.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from . import blob, dumps, golden, mnist, weights
from . import contract as C
from .errors import LenetError
from .ip_model import DeviceModel, pack_images
from .outputs import check_writable

DEFAULT_OUT = "build/vectors"
FORMAT = "lenet-vectors-1"

FILES = {
    "weights": "weights.bin",
    "manifest": "weights.json",
    "images": "images.bin",
    "labels": "labels.bin",
    "load_in": "load_in.bin",
    "load_out": "load_out.bin",
    "infer_in": "infer_in.bin",
    "infer_out": "infer_out.bin",
    "layers": "layers",
}


def _job(dev: DeviceModel, command: int, words: np.ndarray, count: int) -> tuple[np.ndarray, dict]:
    out = dev.run_job(command, words, count=count)
    registers = {"STATUS": dev.read(C.REG_STATUS), "WEIGHTS_CRC": dev.read(C.REG_WEIGHTS_CRC),
                 "IMAGES_DONE": dev.read(C.REG_IMAGES_DONE)}
    return out, registers


def write_vectors(q: blob.QuantizedLeNet, images: np.ndarray, labels: np.ndarray, indices: list[int],
                  out_dir: str | Path, source: str = "") -> dict:
    """Write the test vectors of ``images`` (uint8, N x 784 or N x 28 x 28) to ``out_dir``; returns vectors.json."""
    out = Path(out_dir)
    images = np.ascontiguousarray(images, dtype=np.uint8).reshape(-1, C.IMAGE_BYTES)
    labels = np.asarray(labels, dtype=np.uint8).reshape(-1)
    n = len(images)
    if not 1 <= n <= C.MAX_COUNT or len(labels) != n or len(indices) != n:
        raise LenetError(f"export: {n} images, {len(labels)} labels, {len(indices)} indices; "
                         f"need the same number, 1 ... {C.MAX_COUNT}")
    if out.exists():
        shutil.rmtree(out / FILES["layers"], ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)

    weights_bin, _ = blob.save(q, out / FILES["weights"])
    blob_words = np.frombuffer(weights_bin.read_bytes(), "<u4")
    image_words = pack_images(images)
    trace = {}
    logits = golden.run(q, images, trace)
    classes = golden.classify(logits)

    dev = DeviceModel()
    load_out, after_load = _job(dev, C.CMD_LOAD_WEIGHTS, blob_words, 0)
    infer_out, after_infer = _job(dev, C.CMD_INFER, image_words, n)
    expected_infer = np.append(golden.result_words(logits), C.trailer(C.ERR_OK, n)).astype(np.uint32)
    if not np.array_equal(infer_out, expected_infer) or load_out.tolist() != [C.trailer(C.ERR_OK, 0)]:
        raise LenetError("export: the device model and the golden model disagree; this is a bug, "
                         "run `pytest tests/test_device_model.py`")

    images.tofile(out / FILES["images"])
    labels.tofile(out / FILES["labels"])
    for key, words in (("load_in", blob_words), ("load_out", load_out), ("infer_in", image_words),
                       ("infer_out", infer_out)):
        np.asarray(words, dtype="<u4").tofile(out / FILES[key])
    trace["class"] = classes.astype(np.uint8)
    dumps.write(out / FILES["layers"], trace, q.activation_fracs(), source=f"golden {source}".strip())

    doc = {
        "format": FORMAT,
        "count": n,
        "indices": [int(i) for i in indices],
        "source": source,
        "files": dict(FILES),
        "weights_crc": f"{blob.crc_word(q):#010x}",
        "jobs": [
            {"name": "load", "command": C.CMD_LOAD_WEIGHTS, "count": 0,
             "input": FILES["load_in"], "input_words": int(blob_words.size),
             "output": FILES["load_out"], "output_words": int(load_out.size),
             "expected": {"STATUS": after_load["STATUS"], "WEIGHTS_CRC": f"{after_load['WEIGHTS_CRC']:#010x}",
                          "IMAGES_DONE": after_load["IMAGES_DONE"]}},
            {"name": "infer", "command": C.CMD_INFER, "count": n,
             "input": FILES["infer_in"], "input_words": int(image_words.size),
             "output": FILES["infer_out"], "output_words": int(infer_out.size),
             "expected": {"STATUS": after_infer["STATUS"], "WEIGHTS_CRC": f"{after_infer['WEIGHTS_CRC']:#010x}",
                          "IMAGES_DONE": after_infer["IMAGES_DONE"]}},
        ],
        "golden_correct": int((classes == labels).sum()),
    }
    (out / "vectors.json").write_text(json.dumps(doc, indent=1) + "\n")
    return doc


def parse_indices(text: str) -> list[int]:
    """``"3,7,10-12"`` -> [3, 7, 10, 11, 12]."""
    out = []
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            lo, _, hi = part.partition("-")
            out.extend(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise LenetError(f"--indices {text!r}: expected comma-separated numbers or ranges like 3,7,10-12") from None
    if not out:
        raise LenetError("--indices: no image index given")
    return out


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--blob", default=None,
                   help="weights blob with its .json manifest (default <weights-dir>/<model-name>_int8.bin, "
                        "else the shipped one)")
    weights.add_arguments(p, "directory of the default blob")
    p.add_argument("--out", "-o", default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    p.add_argument("--count", "-n", type=int, default=16, help="number of images (default 16)")
    p.add_argument("--first", type=int, default=0, help="index of the first image (default 0)")
    p.add_argument("--indices", help="explicit image indices instead of --first/--count, e.g. 3,7,10-12")
    p.add_argument("--split", choices=("test", "train"), default="test", help="MNIST split (default test)")
    mnist.add_data_dir_argument(p)


def run(args: argparse.Namespace) -> int:
    check_writable(args.out, "the vectors directory", directory=True)
    blob_file = weights.find_blob(args, args.blob)
    q = blob.load(blob_file)
    images, labels = mnist.load(args.split, args.data_dir)
    if args.indices:
        indices = parse_indices(args.indices)
    else:
        if args.count < 1 or args.first < 0:
            raise LenetError(f"--count {args.count} --first {args.first}: need count >= 1 and first >= 0")
        indices = list(range(args.first, args.first + args.count))
    bad = [i for i in indices if not 0 <= i < len(images)]
    if bad:
        raise LenetError(f"image index {bad[0]} is outside the {args.split} set (0 ... {len(images) - 1})")
    doc = write_vectors(q, images[indices], labels[indices], indices, args.out,
                        source=f"MNIST {args.split}, {len(indices)} images, weights {blob_file}")
    print(f"wrote {args.out}: {doc['count']} images, WEIGHTS_CRC {doc['weights_crc']}, "
          f"golden {doc['golden_correct']}/{doc['count']} correct; "
          f"infer_out {doc['jobs'][1]['output_words']} words")
    return 0
