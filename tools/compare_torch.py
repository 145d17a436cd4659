"""Training speed of our NumPy LeNet-5 and of PyTorch's, side by side in one run.

A developer's tool, not part of the package: it needs PyTorch, which the
project does not depend on (``pip install torch`` into your own venv). It
times the same training step on both sides: LeNet-5 of docs/contract.md,
batch 64 of the same MNIST images held in memory, cross-entropy, SGD with
momentum 0.9 and weight decay 5e-4, from the same initial weights.

Every timing runs in a fresh process with the usual thread settings
(``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
``torch.set_num_threads``), so neither side's thread pools spin on the
cores while the other is timed. The sides and thread counts take turns
(torch first in odd rounds, ours first in even ones), and every timed block
carries the load average it met. It first checks, in one process, that both
sides compute the same loss and gradients for one batch.

    .venv/bin/python tools/compare_torch.py [--threads 1,2] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

BATCH = 64
LR = 0.01
MOMENTUM = 0.9
WEIGHT_DECAY = 5e-4


def _torch_net(params: dict[str, np.ndarray]):
    import torch
    from torch import nn

    net = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    layers = [m for m in net if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        for m, name in zip(layers, ("conv1", "conv2", "fc1", "fc2", "fc3")):
            m.weight.copy_(torch.from_numpy(params[f"{name}.w"]))
            m.bias.copy_(torch.from_numpy(params[f"{name}.b"]))
    return net, layers


def _data():
    from lenet_pynq.train.bench_train import bench_data

    return bench_data()


def _time_torch(threads: int, steps: int, repeats: int) -> list[dict]:
    import torch
    import torch.nn.functional as F

    from lenet_pynq.train.model import LeNet5

    torch.set_num_threads(threads)
    x, y = _data()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    net, _ = _torch_net(LeNet5(seed=0).params)
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    n = len(x)

    def block(count: int) -> tuple[float, float]:
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(count):
            s = (i * BATCH) % (n - BATCH + 1)
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(net(xt[s:s + BATCH]), yt[s:s + BATCH]).backward()
            opt.step()
        return count * BATCH / (time.perf_counter() - start), count * BATCH / (time.process_time() - cpu)

    block(20)  # warm-up
    return [_record(*block(steps)) for _ in range(repeats)]


def _time_numpy(threads: int, steps: int, repeats: int) -> list[dict]:
    from lenet_pynq.threads import limit_blas
    from lenet_pynq.train.bench_train import train_steps
    from lenet_pynq.train.heap import keep_freed_memory
    from lenet_pynq.train.model import LeNet5
    from lenet_pynq.train.optim import SGD


    x, y = _data()
    keep_freed_memory()  # as `lenet train` does
    net = LeNet5(seed=0)
    opt = SGD(net.params, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    with limit_blas(1):
        train_steps(net, opt, x, y, BATCH, 20, threads, LR)  # warm-up
        return [_record(*train_steps(net, opt, x, y, BATCH, steps, threads, LR)) for _ in range(repeats)]


def _record(wall: float, cpu: float) -> dict:
    return {"images_per_second": wall, "images_per_cpu_second": cpu, "load_average": os.getloadavg()[0]}


def _check() -> dict:
    """Loss and gradients of one batch on both sides, from the same weights: the largest relative difference."""
    import torch
    import torch.nn.functional as F

    from lenet_pynq.train.model import LeNet5

    x, y = _data()
    ours = LeNet5(seed=0)
    loss, _, grads = ours.loss_and_gradients(x[:BATCH], y[:BATCH])
    net, layers = _torch_net(ours.params)
    torch_loss = F.cross_entropy(net(torch.from_numpy(x[:BATCH])), torch.from_numpy(y[:BATCH]))
    torch_loss.backward()
    worst = 0.0
    for m, name in zip(layers, ("conv1", "conv2", "fc1", "fc2", "fc3")):
        for suffix, t in (("w", m.weight.grad), ("b", m.bias.grad)):
            g, tg = grads[f"{name}.{suffix}"], t.numpy()
            worst = max(worst, float(np.abs(g - tg).max() / np.abs(tg).max()))
    return {"loss": loss, "torch_loss": float(torch_loss), "max_relative_gradient_difference": worst,
            "torch": torch.__version__, "numpy": np.__version__}


def _worker(args) -> int:
    if args.worker == "check":
        print(json.dumps(_check()))
    else:
        timer = _time_torch if args.worker == "torch" else _time_numpy
        print(json.dumps(timer(args.threads_one, args.steps, args.repeats)))
    return 0


def _spawn(worker: str, threads: int, args) -> list[dict] | dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads))
    cmd = [sys.executable, __file__, "--worker", worker, "--threads-one", str(threads),
           "--steps", str(args.steps), "--repeats", str(args.repeats)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"error: the {worker} worker failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", default="1,2", help="thread counts to compare (default 1,2)")
    p.add_argument("--rounds", type=int, default=3, help="turns of every side and thread count (default 3)")
    p.add_argument("--repeats", type=int, default=3, help="timed blocks per turn (default 3)")
    p.add_argument("--steps", type=int, default=200, help="training steps per timed block (default 200)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--worker", choices=("torch", "numpy", "check"), help=argparse.SUPPRESS)
    p.add_argument("--threads-one", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return _worker(args)
    threads = [int(t) for t in args.threads.split(",")]
    result = {"check": _spawn("check", 1, args), "batch_size": BATCH, "steps": args.steps, "cores": os.cpu_count(),
              "runs": {side: {str(t): [] for t in threads} for side in ("torch", "numpy")}}
    for r in range(args.rounds):
        for t in threads:
            for side in ("torch", "numpy") if r % 2 == 0 else ("numpy", "torch"):
                runs = _spawn(side, t, args)
                result["runs"][side][str(t)] += runs
                print(f"round {r + 1}, {t} thread(s), {side}: " + ", ".join(
                    f"{x['images_per_second']:,.0f} (load {x['load_average']:.2f})" for x in runs), file=sys.stderr)
    summary = {}
    for t in map(str, threads):
        s = {}
        for side in ("torch", "numpy"):
            runs = result["runs"][side][t]
            wall = [x["images_per_second"] for x in runs]
            loads = [x["load_average"] for x in runs]
            s[side] = {"best": max(wall), "median": statistics.median(wall),
                       "cpu_median": statistics.median(x["images_per_cpu_second"] for x in runs),
                       "load_average": [min(loads), max(loads)]}
        s["ratio_best"] = s["numpy"]["best"] / s["torch"]["best"]
        s["ratio_median"] = s["numpy"]["median"] / s["torch"]["median"]
        summary[t] = s
    result["summary"] = summary
    if args.json:
        print(json.dumps(result))
        return 0
    c = result["check"]
    print(f"PyTorch {c['torch']} vs NumPy {c['numpy']} LeNet-5, batch {BATCH}, {args.rounds} rounds x "
          f"{args.repeats} blocks of {args.steps} steps per side and thread count, {os.cpu_count()} cores")
    print(f"same step: loss {c['loss']:.6f} vs torch {c['torch_loss']:.6f}; gradients differ by at most "
          f"{c['max_relative_gradient_difference']:.1e} (relative to each tensor's largest)")
    for t, s in summary.items():
        for side in ("torch", "numpy"):
            x = s[side]
            print(f"  {t} thread{'s' if t != '1' else ' '} {side:5s}: best {x['best']:7,.0f}  median "
                  f"{x['median']:7,.0f} images/s  (per CPU-second {x['cpu_median']:,.0f}; load average "
                  f"{x['load_average'][0]:.2f}-{x['load_average'][1]:.2f})")
        print(f"  {t} thread{'s' if t != '1' else ' '} ours/torch: {s['ratio_best']:.2f}x best, "
              f"{s['ratio_median']:.2f}x median")
    return 0


if __name__ == "__main__":
    sys.exit(main())
