"""Training curves: loss and accuracy per epoch, from the history every checkpoint stores.

`lenet train --plot` draws them at the end of a run; `lenet plot
CHECKPOINT` draws them from any saved checkpoint later. Needs matplotlib
(the ``plot`` extra), asked for before anything is computed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import LenetError
from ..outputs import check_writable, require


def default_path(model_name: str) -> Path:
    return Path("results") / f"{model_name}_training.png"


def draw(history, path: str | Path, title: str) -> Path:
    """Loss (left) and train/test accuracy (right) per epoch; ``history`` holds EpochResults or their dicts."""
    require("matplotlib", "drawing the training curves")
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    rows = [h if isinstance(h, dict) else vars(h) for h in history]
    epochs = [r["epoch"] for r in rows]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, [r["loss"] for r in rows], "o-")
    ax_loss.set(xlabel="epoch", ylabel="training loss (cross-entropy)", title="loss")
    ax_acc.plot(epochs, [100 * r["train_accuracy"] for r in rows], "o-", label="train")
    ax_acc.plot(epochs, [100 * r["test_accuracy"] for r in rows], "s-", label="test")
    best = max(rows, key=lambda r: (r["test_accuracy"], r["epoch"]))  # ties to the later epoch, as training keeps
    ax_acc.annotate(f"best {100 * best['test_accuracy']:.2f}%", (best["epoch"], 100 * best["test_accuracy"]),
                    textcoords="offset points", xytext=(0, -18), ha="center")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    ax_acc.legend()
    for ax in (ax_loss, ax_acc):
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# --- the `lenet plot` command ------------------------------------------------

def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", help="a checkpoint's manifest, e.g. weights/lenet.json (or lenet_last.json)")
    p.add_argument("--out", "-o", default=None,
                   help="the image to write (default results/<checkpoint name>_training.png)")


def run(args: argparse.Namespace) -> int:
    source = Path(args.checkpoint)
    require("matplotlib", "lenet plot")
    out = check_writable(args.out or default_path(source.stem), "the plot")
    try:
        manifest = json.loads(source.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LenetError(f"{source}: not a readable checkpoint manifest ({getattr(e, 'strerror', None) or e}); "
                         "give the .json that `lenet train` wrote") from None
    meta = manifest.get("meta") if isinstance(manifest, dict) else None
    history = meta.get("history") if isinstance(meta, dict) else None
    if not history:
        raise LenetError(f"{source}: no training history in its manifest (meta.history): only checkpoints "
                         "written by `lenet train` have one")
    config = meta.get("config") or {}
    title = f"{source.stem} (" + ", ".join(f"{k}={v}" for k, v in config.items() if v is not None) + ")"
    print(f"Training curves of {len(history)} epochs drawn to {draw(history, out, title)}")
    return 0
