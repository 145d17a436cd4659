"""`lenet train`: train the float LeNet-5 on MNIST and save a checkpoint.

Defaults are the recipe measured on this project's machines (DESIGN.md):
SGD with momentum 0.9, learning rate 0.05 decayed to 0 by a cosine over all
steps, batch 64, 5 epochs, plus L2 weight decay 5e-4. Measured here over
seeds 0-2 (twice, before and after a change of summation order), the final
test accuracy was 99.08-99.32% (mean 99.20%) with the weight decay and
99.03-99.17% (mean 99.11%) without; above 99.0% from epoch 4 on.
Everything random (initialisation, shuffling) derives from ``--seed``, so a
run is reproducible on the same machine with the same ``--threads``: each
batch is computed in that many parts at once (``LeNet5.loss_and_gradients``,
on a one-thread BLAS), and the order in which the parts' gradients are summed
changes the last bits of the weights.

After every epoch the run is saved (atomically): ``<name>_last`` holds the
parameters, the optimizer's buffers, the position of the shuffling RNG and
the history, so `lenet train --resume` continues exactly where it stopped
(a resumed run ends with the same bytes as an uninterrupted one);
``<name>`` is the best epoch so far by test accuracy (a tie goes to the
later epoch: the same accuracy after more training), the model every other
command reads.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields

import numpy as np
from tqdm import tqdm

from .. import mnist, weights
from ..errors import LenetError
from ..outputs import check_writable, require
from ..report import (
    DEFAULT_BATCH,
    PREDICTIONS_FILE,
    Report,
    evaluate,
    non_negative_float,
    positive_float,
    positive_int,
    unit_interval,
)
from ..runlog import FILE_ONLY, log_path, open_log
from ..threads import default_threads, limit_blas
from . import checkpoint, plot
from .evaluate import float_logits
from .heap import keep_freed_memory
from .model import LeNet5, preprocess
from .optim import OPTIMIZERS, cosine_lr

DEFAULT_LR = {"sgd": 0.05, "adam": 0.001}
SCHEDULES = ("cosine", "constant")


@dataclass
class Config:
    epochs: int = 5
    batch_size: int = 64
    lr: float = DEFAULT_LR["sgd"]
    optimizer: str = "sgd"
    momentum: float | None = 0.9  # sgd only: None for adam
    weight_decay: float | None = 5e-4  # sgd only: None for adam
    schedule: str = "cosine"
    seed: int = 0
    threads: int = field(default_factory=default_threads)

    def line(self) -> str:
        """The parameters that apply to this optimizer, for the log."""
        return ", ".join(f"{k}={v}" for k, v in asdict(self).items() if v is not None)


@dataclass
class EpochResult:
    epoch: int
    loss: float
    train_accuracy: float
    test_accuracy: float
    lr: float  # at the end of the epoch
    seconds: float  # training only, without the evaluation
    images_per_second: float


@dataclass
class Resume:
    """Where an interrupted run stopped: after ``epoch``, with these optimizer buffers and RNG position."""

    epoch: int
    optimizer: dict[str, np.ndarray]
    shuffle: dict  # numpy's bit_generator.state: plain ints, stored as JSON


def fit(net: LeNet5, images: np.ndarray, labels: np.ndarray, test_images: np.ndarray, test_labels: np.ndarray,
        cfg: Config, log=None, progress: bool = True, batch_size_test: int = DEFAULT_BATCH,
        resume: Resume | None = None):
    """Train ``net`` in place; yields (EpochResult, test Report, Resume) after every epoch.

    With ``resume`` (and ``net`` holding that epoch's parameters) it goes on
    from there: the same steps, learning rates and batches as if it had
    never stopped.
    """
    x_all = preprocess(images)
    y_all = np.asarray(labels, dtype=np.int64)
    n = len(x_all)
    steps_per_epoch = -(-n // cfg.batch_size)  # the last, shorter batch counts: every image once per epoch
    total_steps = cfg.epochs * steps_per_epoch
    sgd_options = {"momentum": cfg.momentum, "weight_decay": cfg.weight_decay}
    opt = OPTIMIZERS[cfg.optimizer](net.params, **(sgd_options if cfg.optimizer == "sgd" else {}))
    shuffle = np.random.default_rng([cfg.seed, 1])  # independent of the initialisation's stream
    first = 1
    if resume is not None:
        opt.load_state(resume.optimizer)
        shuffle.bit_generator.state = resume.shuffle
        first = resume.epoch + 1
    logits_fn = lambda batch: net.forward(preprocess(batch))
    step = (first - 1) * steps_per_epoch
    for epoch in range(first, cfg.epochs + 1):
        order = shuffle.permutation(n)
        loss_sum = correct = seen = 0
        lr = cfg.lr
        start = time.perf_counter()
        # A bar only on a terminal (disable=None): a redirected log gets no progress updates.
        bar = tqdm(range(steps_per_epoch), desc=f"Epoch {epoch}/{cfg.epochs}", unit="batch",
                   disable=None if progress else True, mininterval=0.5)
        # Divergence is caught below, at its first step: NumPy's overflow warnings would only repeat it.
        # The step's own threads use the cores, each on a one-thread BLAS (lenet_pynq/threads.py).
        with np.errstate(over="ignore", invalid="ignore"), limit_blas(1):
            for i in bar:
                idx = order[i * cfg.batch_size:(i + 1) * cfg.batch_size]
                y = y_all[idx]
                loss, logits, grads = net.loss_and_gradients(x_all[idx], y, cfg.threads)
                if not np.isfinite(loss):
                    bar.close()
                    raise LenetError(f"training diverged in epoch {epoch}, step {i + 1} (loss {loss}); "
                                     "lower --lr")
                lr = cosine_lr(cfg.lr, step, total_steps) if cfg.schedule == "cosine" else cfg.lr
                opt.step(grads, lr)
                step += 1
                loss_sum += loss * len(idx)
                correct += int((logits.argmax(axis=1) == y).sum())
                seen += len(idx)
                if i % 50 == 0 or i == steps_per_epoch - 1:
                    bar.set_postfix(loss=f"{loss_sum / seen:.4f}", refresh=False)
        bar.close()
        seconds = time.perf_counter() - start
        # Outside the one-thread BLAS, as `lenet test` evaluates: BLAS sums differently on one thread than
        # on several, and the predictions saved here must be the ones a later `lenet test` reproduces.
        report = evaluate(logits_fn, test_images, test_labels, batch_size_test)
        result = EpochResult(epoch, loss_sum / seen, correct / seen, report.accuracy, lr, seconds, seen / seconds)
        if log:
            log.info(f"Epoch {epoch}/{cfg.epochs} - loss: {result.loss:.4f} - train accuracy: "
                     f"{result.train_accuracy:.4f} - test accuracy: {result.test_accuracy:.4f} - lr: {lr:.5f} - "
                     f"{seconds:.1f} s ({result.images_per_second:.0f} images/s)")
        yield result, report, Resume(epoch, opt.state(), shuffle.bit_generator.state)


# --- the `lenet train` command -----------------------------------------------

LAST = "_last"  # <name>_last: the run after its latest epoch, what --resume continues


def add_arguments(p) -> None:
    c = Config()
    # Hyperparameters default to None here so that run() knows which ones were given (--resume, adam).
    p.add_argument("--epochs", type=positive_int, help=f"passes over the data (default {c.epochs})")
    p.add_argument("--batch-size", type=positive_int, help=f"training batch (default {c.batch_size})")
    p.add_argument("--lr", type=positive_float,
                   help=f"learning rate (default {DEFAULT_LR['sgd']} for sgd, {DEFAULT_LR['adam']} for adam)")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), help=f"(default {c.optimizer})")
    p.add_argument("--momentum", type=unit_interval, help=f"SGD momentum, in [0, 1) (default {c.momentum})")
    p.add_argument("--weight-decay", type=non_negative_float, help=f"SGD L2 weight decay (default {c.weight_decay})")
    p.add_argument("--schedule", choices=SCHEDULES,
                   help=f"learning-rate schedule over all steps (default {c.schedule})")
    p.add_argument("--seed", type=int, help=f"initialisation and shuffling seed (default {c.seed})")
    p.add_argument("--threads", type=positive_int,
                   help=f"threads computing parts of every batch at once (default min(2, cores): {default_threads()})")
    mnist.add_data_dir_argument(p)
    weights.add_arguments(p, "where to save the checkpoints")
    p.add_argument("--train-limit", type=positive_int, default=None,
                   help="train on the first N training images only (quick runs)")
    p.add_argument("--batch-size-test", type=positive_int, default=DEFAULT_BATCH,
                   help=f"images per forward pass when evaluating (default {DEFAULT_BATCH})")
    p.add_argument("--resume", action="store_true",
                   help=f"continue the run saved in <weights-dir>/<model-name>{LAST} (its settings, optimizer "
                        "state and RNG position) up to its --epochs")
    p.add_argument("--save-predictions", nargs="?", const=str(PREDICTIONS_FILE), default=None, metavar="PATH",
                   help=f"write the best model's test-set predictions to PATH (default {PREDICTIONS_FILE})")
    p.add_argument("--plot", nargs="?", const="", default=None, metavar="PATH",
                   help="draw the loss and accuracy curves to PATH (default results/<model-name>_training.png; "
                        "needs matplotlib)")


HYPERPARAMETERS = [f.name for f in fields(Config)]


def _config(args, stored: dict | None) -> Config:
    """The run's Config: the stored one when resuming (refusing a different value given now), else the options."""
    given = {k: getattr(args, k) for k in HYPERPARAMETERS if getattr(args, k) is not None}
    if stored is not None:
        clash = {k: v for k, v in given.items() if stored.get(k) != v}
        if clash:
            k, v = next(iter(clash.items()))
            raise LenetError(f"--{k.replace('_', '-')} {v}: the run being resumed has {stored.get(k)}; "
                             "drop the option to resume it, or start a new run without --resume")
        return Config(**stored)
    optimizer = given.get("optimizer", "sgd")
    if optimizer != "sgd":
        sgd_only = [k for k in ("momentum", "weight_decay") if k in given]
        if sgd_only:
            raise LenetError(f"--{sgd_only[0].replace('_', '-')} applies to --optimizer sgd only, not {optimizer}")
        given.update(momentum=None, weight_decay=None)
    given.setdefault("lr", DEFAULT_LR[optimizer])
    return Config(**given)


def run(args) -> int:
    directory, name = weights.chosen(args)
    check_writable(directory, "the checkpoint directory", directory=True)
    plot_path = None
    if args.plot is not None:
        require("matplotlib", "--plot")
        plot_path = check_writable(args.plot or plot.default_path(name), "the plot")
    if args.save_predictions is not None:
        check_writable(args.save_predictions, "the predictions file")
    resume, stored, history, best = None, None, [], None
    if args.resume:
        params, stored, state = checkpoint.load_state(directory, name + LAST)
        resume = Resume(stored["resume"]["epoch"], state, stored["resume"]["shuffle"])
        history = [EpochResult(**h) for h in stored["history"]]
        best = next(h for h in history if h.epoch == stored["best_epoch"])
        if args.train_limit is not None and args.train_limit != stored["train_limit"]:
            raise LenetError(f"--train-limit {args.train_limit}: the run being resumed has {stored['train_limit']}")
        args.train_limit = stored["train_limit"]
    cfg = _config(args, stored and stored["config"])
    if resume is not None and resume.epoch >= cfg.epochs:
        print(f"nothing to resume: {directory / (name + LAST)} finished all {cfg.epochs} epochs "
              f"(best: epoch {best.epoch}, test accuracy {best.test_accuracy:.4f})")
        if plot_path is not None:
            print(f"Training curves drawn to {plot.draw(history, plot_path, f'{name} ({cfg.line()})')}")
        return 0
    log = open_log("train")
    images, labels = mnist.load("train", args.data_dir)
    test_images, test_labels = mnist.load("test", args.data_dir)
    if args.train_limit is not None:
        if args.train_limit > len(images):
            raise LenetError(f"--train-limit {args.train_limit}: the training set has only {len(images)} images")
        images, labels = images[:args.train_limit], labels[:args.train_limit]
    keep_freed_memory()
    net = LeNet5(seed=cfg.seed)
    if resume is not None:
        net.load_params(params)
        log.info(f"Resuming {directory / (name + LAST)} after epoch {resume.epoch} of {cfg.epochs}")
    log.info(f"Training {net} on {len(images)} images, testing on {len(test_images)}")
    log.info(f"Parameters: {cfg.line()}")
    best_report: Report | None = None
    best_params = checkpoint.load(directory, name) if resume else None
    saved = resume.epoch if resume else 0
    try:
        for result, report, state in fit(net, images, labels, test_images, test_labels, cfg, log, resume=resume,
                                         batch_size_test=args.batch_size_test):
            history.append(result)
            meta = {"config": asdict(cfg), "train_images": len(images), "train_limit": args.train_limit,
                    "history": [asdict(h) for h in history]}
            if best is None or result.test_accuracy >= best.test_accuracy:
                best, best_report = result, report
                best_params = {k: v.copy() for k, v in net.params.items()}
            # Saved every epoch, so that its history (for `lenet plot`) runs to the latest epoch too.
            checkpoint.save(best_params, directory, name,
                            meta={**meta, "epoch": best.epoch, "test_accuracy": best.test_accuracy})
            checkpoint.save(net.params, directory, name + LAST, state=state.optimizer,
                            meta={**meta, "best_epoch": best.epoch,
                                  "resume": {"epoch": result.epoch, "shuffle": state.shuffle}})
            saved = result.epoch
    except KeyboardInterrupt:
        if saved:
            log.info(f"Saved after epoch {saved}: `lenet train --resume{_location(args)}` continues the run")
        raise
    best_path = checkpoint.paths(directory, name)[0]
    if best_report is None:  # the best epoch came before the interruption: evaluate it again
        best_report = evaluate(float_logits(best_params), test_images, test_labels, args.batch_size_test)
    log.info(f"Saved the best epoch to {best_path} and the last to {checkpoint.paths(directory, name + LAST)[0]}")
    log.info("\n".join(best_report.lines()), extra=FILE_ONLY)
    print("\n".join(best_report.lines()))
    print(f"\nBest epoch: {best.epoch} of {cfg.epochs} (test accuracy {best.test_accuracy:.4f}), saved as {best_path}")
    # The results are printed: an output that fails now costs only itself.
    if args.save_predictions is not None:
        print(f"Predictions written to {best_report.write_predictions(args.save_predictions)}")
    if plot_path is not None:
        print(f"Training curves drawn to {plot.draw(history, plot_path, f'{name} ({cfg.line()})')}")
    path = log_path(log)
    if path:
        print(f"Log: {path}")
    return 0


def _location(args) -> str:
    """The options that find this run again, as typed."""
    named = [("data_dir", args.data_dir)]
    if getattr(args, weights.NAMED, False):
        named += [("weights_dir", args.weights_dir), ("model_name", args.model_name)]
    return "".join(f" --{k.replace('_', '-')} {v}" for k, v in named
                   if v is not None and v not in (weights.DEFAULT_DIR, weights.DEFAULT_NAME))
