"""Throughput of the golden integer model (`make bench-golden`).

Times ``golden.run`` on batches of MNIST test images and prints images/s.
Usage: ``python -m lenet_pynq.train.bench_golden [--blob B] [--batch-size N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from . import blob, golden, mnist
from .errors import LenetError


def bench(q: blob.QuantizedLeNet, images: np.ndarray, repeats: int) -> float:
    """Best images/s over ``repeats`` runs of ``golden.run`` on ``images`` (one warm-up run first)."""
    golden.run(q, images[: min(len(images), golden.CHUNK)])
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        golden.run(q, images)
        best = min(best, time.perf_counter() - t0)
    return len(images) / best


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--blob", default="weights/lenet_int8.bin", help="weights blob (default weights/lenet_int8.bin)")
    p.add_argument("--batch-size", type=int, default=1000, help="images per golden.run call (default 1000)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs; the best is reported (default 5)")
    mnist.add_data_dir_argument(p)
    args = p.parse_args(argv)
    try:
        q = blob.load(args.blob, require_manifest=False)
        images, _ = mnist.load("test", args.data_dir)
        if not 1 <= args.batch_size <= len(images):
            raise LenetError(f"--batch-size {args.batch_size}: need 1 ... {len(images)}")
    except LenetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    rate = bench(q, images[: args.batch_size], args.repeats)
    print(f"golden model: {rate:,.0f} images/s (batch {args.batch_size}, best of {args.repeats}, "
          f"chunks of {golden.CHUNK})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
