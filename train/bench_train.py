"""Training throughput of the float LeNet-5: `make bench-train`.

Times full training steps (forward, loss, backward, SGD update) on real
MNIST batches held in memory, as `lenet train` runs them, after a warm-up.
On a shared machine other processes take cores away, so it reports every
repeat, their median and best, and also images per second of this
process's CPU time, which contention barely moves (with 2 BLAS threads it
counts both threads, so it reads lower than an unloaded wall-clock rate).

    python -m lenet_pynq.train.bench_train --batch-size 64
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

from .. import mnist
from ..errors import LenetError
from .heap import keep_freed_memory
from .layers import cross_entropy
from .model import LeNet5, preprocess
from .optim import SGD


def images_per_second(x: np.ndarray, y: np.ndarray, batch_size: int, steps: int, net: LeNet5, opt: SGD,
                      lr: float = 0.01) -> tuple[float, float]:
    """Run ``steps`` training steps over ``x``/``y`` (cycling): images per wall second and per CPU second."""
    n = len(x)
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(steps):
        s = (i * batch_size) % (n - batch_size + 1)
        _, dlogits = cross_entropy(net.forward(x[s:s + batch_size]), y[s:s + batch_size])
        opt.step(net.backward(dlogits), lr)
    images = steps * batch_size
    return images / (time.perf_counter() - start), images / (time.process_time() - cpu)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lenet_pynq.train.bench_train", description=__doc__.splitlines()[0])
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=300, help="training steps per repeat (default 300)")
    p.add_argument("--repeats", type=int, default=5, help="timed repeats (default 5)")
    mnist.add_data_dir_argument(p)
    args = p.parse_args(argv)
    if args.batch_size < 1 or args.steps < 1 or args.repeats < 1:
        p.error("--batch-size, --steps and --repeats must be at least 1")
    try:
        images, labels = mnist.load("train", args.data_dir)
    except LenetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    count = min(len(images), 10000)
    x, y = preprocess(images[:count]), labels[:count].astype(np.int64)
    keep_freed_memory()
    net = LeNet5(seed=0)
    opt = SGD(net.params)
    images_per_second(x, y, args.batch_size, 30, net, opt)  # warm-up: caches, heap, BLAS threads
    runs = [images_per_second(x, y, args.batch_size, args.steps, net, opt) for _ in range(args.repeats)]
    wall, cpu = [r[0] for r in runs], [r[1] for r in runs]
    print(f"training images/s at batch {args.batch_size}: median {statistics.median(wall):,.0f}, "
          f"best {max(wall):,.0f} (repeats: {', '.join(f'{r:,.0f}' for r in wall)}; {args.steps} steps each)")
    print(f"per CPU-second of this process: median {statistics.median(cpu):,.0f}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
