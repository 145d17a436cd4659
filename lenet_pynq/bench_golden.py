"""Throughput of the golden integer model (`make bench-golden`).

Times ``golden.run`` on batches of MNIST test images and prints images/s,
best and median of the repeats, with the load average beside them: on a
shared machine other processes take the cores, and only the best of several
repeats approaches what the model does on a free core.
Usage: ``python -m lenet_pynq.train.bench_golden [--blob B] [--batch-size N] [--repeats R]``.
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np

from . import blob, golden, mnist, weights
from .errors import LenetError
from .report import positive_int
from .threads import default_threads


def bench(q: blob.QuantizedLeNet, images: np.ndarray, repeats: int) -> tuple[list[float], list[float]]:
    """Images per wall second and per CPU second of each of ``repeats`` runs of ``golden.run`` on ``images``.

    One warm-up run first. The CPU time counts every thread the model runs
    (``lenet_pynq.threads``), so images per CPU-second are about what one free
    core would do; contention for caches and memory still slows it.
    """
    golden.run(q, images)
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        golden.run(q, images)
        wall.append(len(images) / (time.perf_counter() - t0))
        cpu.append(len(images) / (time.process_time() - c0))
    return wall, cpu


def add_arguments(p) -> None:
    p.add_argument("--blob", help="weights blob (default <weights-dir>/<model-name>_int8.bin, else the shipped one)")
    weights.add_arguments(p)
    p.add_argument("--batch-size", type=positive_int, default=1000, help="images per golden.run call (default 1000)")
    p.add_argument("--repeats", type=positive_int, default=9, help="timed runs (default 9)")
    mnist.add_data_dir_argument(p)


def run(args) -> int:
    q = blob.load(weights.find_blob(args, args.blob), require_manifest=False)
    images, _ = mnist.load("test", args.data_dir)
    if not 1 <= args.batch_size <= len(images):
        raise LenetError(f"--batch-size {args.batch_size}: need 1 ... {len(images)}")
    rates, cpu = bench(q, images[: args.batch_size], args.repeats)
    print(f"golden model: best {max(rates):,.0f} images/s, median {statistics.median(rates):,.0f} "
          f"(batch {args.batch_size}, {args.repeats} repeats, passes of up to {golden.CHUNK} in {default_threads()} "
          f"threads); per CPU-second: best "
          f"{max(cpu):,.0f}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return 0

