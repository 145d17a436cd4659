"""The one interface every backend answers: load weights, classify images.

The board's driver, the model device, the RTL and C-sim simulations, the
golden model and the float model all implement :class:`Classifier`, so the
benchmark and the notebook treat them alike and compare their integers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass
class Classification:
    """What :meth:`Classifier.classify` returns.

    Attributes
    ----------
    classes : ndarray of int64, shape (N,)
        The class per image (argmax of the logits, ties to the lowest index),
        as the implementation itself reports it.
    logits : ndarray, shape (N, 10)
        int32 fc3 accumulators (float32 for the float model).
    batch_seconds : list of float
        Wall time of each job the implementation ran (on a device: DMA both
        ways and the IP, host copies excluded).
    batch_sizes : list of int
        Images in each job.
    """

    classes: np.ndarray
    logits: np.ndarray
    batch_seconds: list[float] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)

    @property
    def images_per_second(self) -> float:
        """Images over the summed job times: the implementation's throughput as the host sees it."""
        total = sum(self.batch_seconds)
        return sum(self.batch_sizes) / total if total > 0 else float("nan")

    def __repr__(self) -> str:
        return (f"Classification({len(self.classes)} images in {len(self.batch_sizes)} jobs, "
                f"{self.images_per_second:.0f} images/s)")


@runtime_checkable
class Classifier(Protocol):
    """A LeNet-5 implementation. A protocol, not a base class: the board's driver
    must subclass ``pynq.DefaultIP``, whose metaclass a second base would clash with.

    ``label`` names what actually classifies, as a report should print it:
    "FPGA" only for the board, "model device", "RTL simulation", ...
    ``integer`` says whether its logits are the contract's integers (and so
    must equal the golden model's bit for bit).
    """

    label: str = "?"
    integer: bool = True

    def load_weights(self, path: str | Path) -> None:
        """Load the weights this implementation runs (a blob, or a float checkpoint's .json)."""

    def classify(self, images, batch_size: int | None = None) -> Classification:
        """Classify uint8 images (N, 28, 28) or (N, 784)."""
