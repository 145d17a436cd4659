"""Training throughput of the float LeNet-5: `make bench-train`.

Times full training steps (forward, loss, backward, SGD update) on real
MNIST batches held in memory, as `lenet train` runs them, after a warm-up,
with the batch computed in 1 and in 2 threads (``LeNet5.loss_and_gradients``;
BLAS pinned to one thread). The thread counts take turns within every repeat,
so that both meet the same load. On a shared machine other processes take
cores away: it reports the best and the median of the repeats with the load
average of each, and also images per second of this process's CPU time,
which contention moves less (with 2 threads it counts both).

    python -m lenet_pynq.train.bench_train [--threads 1,2] [--json]
"""

from __future__ import annotations

import json
import os
import statistics
import time

import numpy as np

from .. import mnist
from ..report import positive_int
from ..threads import blas_limit_available, limit_blas
from .heap import keep_freed_memory
from .model import LeNet5, preprocess
from .optim import SGD

BENCH_IMAGES = 10000  # training images held in memory and cycled through


def train_steps(net: LeNet5, opt: SGD, x: np.ndarray, y: np.ndarray, batch_size: int, steps: int, threads: int,
                lr: float = 0.01) -> tuple[float, float]:
    """Run ``steps`` training steps over ``x``/``y`` (cycling): images per wall second and per CPU second.

    Call it inside ``limit_blas(1)``, as `lenet train` runs.
    """
    n = len(x)
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(steps):
        s = (i * batch_size) % (n - batch_size + 1)
        _, _, grads = net.loss_and_gradients(x[s:s + batch_size], y[s:s + batch_size], threads)
        opt.step(grads, lr)
    images = steps * batch_size
    return images / (time.perf_counter() - start), images / (time.process_time() - cpu)


def bench_data(data_dir=None) -> tuple[np.ndarray, np.ndarray]:
    """The first BENCH_IMAGES training images, preprocessed, and their labels."""
    images, labels = mnist.load("train", data_dir)
    return preprocess(images[:BENCH_IMAGES]), labels[:BENCH_IMAGES].astype(np.int64)


def summary(runs: list[dict]) -> dict:
    wall = [r["images_per_second"] for r in runs]
    return {"best": max(wall), "median": statistics.median(wall),
            "cpu_median": statistics.median(r["images_per_cpu_second"] for r in runs),
            "load_average": [r["load_average"] for r in runs], "repeats": wall}


def thread_counts(text: str) -> list[int]:
    counts = [int(t) for t in text.split(",")]  # a ValueError is argparse's "invalid value"
    if min(counts) < 1:
        raise ValueError(text)
    return counts


thread_counts.__name__ = "comma-separated thread counts"  # argparse names the type in its error message


def add_arguments(p) -> None:
    p.add_argument("--batch-size", type=positive_int, default=64, help="training batch (default 64)")
    p.add_argument("--threads", type=thread_counts, default=[1, 2],
                   help="comma-separated thread counts to time (default 1,2)")
    p.add_argument("--steps", type=positive_int, default=200, help="training steps per repeat (default 200)")
    p.add_argument("--repeats", type=positive_int, default=5, help="timed repeats of every thread count (default 5)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    mnist.add_data_dir_argument(p)


def run(args) -> int:
    threads = args.threads
    x, y = bench_data(args.data_dir)
    keep_freed_memory()
    net = LeNet5(seed=0)
    opt = SGD(net.params, weight_decay=5e-4)
    runs: dict[int, list[dict]] = {t: [] for t in threads}
    with limit_blas(1):
        for t in threads:  # warm-up: caches, heap, worker threads
            train_steps(net, opt, x, y, args.batch_size, 20, t)
        for _ in range(args.repeats):
            for t in threads:
                wall, cpu = train_steps(net, opt, x, y, args.batch_size, args.steps, t)
                runs[t].append({"images_per_second": wall, "images_per_cpu_second": cpu,
                                "load_average": os.getloadavg()[0]})
    result = {"batch_size": args.batch_size, "steps": args.steps, "cores": os.cpu_count(),
              "blas_pinned": blas_limit_available(), "numpy": np.__version__,
              "threads": {str(t): summary(r) for t, r in runs.items()}}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"training images/s at batch {args.batch_size} ({args.repeats} repeats of {args.steps} steps, "
          f"{os.cpu_count()} cores{'' if result['blas_pinned'] else '; BLAS threads not pinned: no threadpoolctl'}):")
    for t, s in result["threads"].items():
        loads = s["load_average"]
        print(f"  {t} thread{'s' if t != '1' else ' '}: best {s['best']:,.0f}, median {s['median']:,.0f} "
              f"(repeats: {', '.join(f'{r:,.0f}' for r in s['repeats'])}); per CPU-second "
              f"{s['cpu_median']:,.0f}; load average {min(loads):.2f}-{max(loads):.2f}")
    return 0

