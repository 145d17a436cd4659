"""The LeNet overlay off the board, on the Python device model.

:func:`open_model_overlay` builds the whole stack the board has, with the
hardware replaced below pynq: a generated .hwh, a
:class:`~lenet_pynq.sim.seam.SeamDevice` whose IP registers and
streams are :class:`lenet_pynq.ip_model.DeviceModel`, and the real
``LeNetOverlay`` / ``LeNetIP`` / ``pynq.lib.dma.DMA`` on top.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path

import numpy as np

from ..ip_model import DeviceModel
from ..overlay.lenet_overlay import LeNetOverlay
from .hwh import write_design
from .seam import SeamDevice


class ModelStream:
    """:class:`DeviceModel`'s streams as a DMA :class:`~lenet_pynq.sim.dma_model.StreamEndpoint`.

    Input packets wait here until the model runs a job (words sent before
    ``ap_start`` wait and go to the next job, contract section 4), then go
    in whole: a job consumes its
    input up to TLAST whatever happens. Output is queued until the DMA's S2MM
    takes it, one packet (up to TLAST) at a time.
    """

    def __init__(self, model: DeviceModel):
        self.model = model
        self._pending: list[np.ndarray] = []
        self._words = np.zeros(0, np.uint32)
        self._last = np.zeros(0, bool)

    def _advance(self) -> None:
        words = ()
        if self._pending and self.model.busy:
            words = self._pending.pop(0)
        out, last = self.model.stream(words, with_last=True)
        self._words = np.concatenate([self._words, out])
        self._last = np.concatenate([self._last, last])

    def send(self, words: np.ndarray) -> None:
        self._pending.append(np.asarray(words, np.uint32))
        self._advance()

    def sent(self) -> bool:
        self._advance()
        return not self._pending

    def receive(self) -> tuple[np.ndarray, bool]:
        self._advance()
        hits = np.flatnonzero(self._last)
        n = int(hits[0]) + 1 if hits.size else self._words.size
        words, self._words, self._last = self._words[:n], self._words[n:], self._last[n:]
        return words, bool(hits.size)


def model_seam(model: DeviceModel | None = None) -> SeamDevice:
    """A seam device whose IP is ``model`` (a fresh :class:`DeviceModel` by default)."""
    model = model or DeviceModel()
    return SeamDevice(model, ModelStream(model), tag="lenet_model", label="model device")


def open_model_overlay(directory: str | Path | None = None, device: SeamDevice | None = None, **hwh):
    """``LeNetOverlay`` on the device model: write the .hwh to ``directory`` (by default a temporary
    one, removed with the overlay) and load it on ``device`` (default :func:`model_seam`). ``hwh``
    overrides design parameters."""

    temporary = not directory
    directory = directory or tempfile.mkdtemp(prefix="lenet_seam_")
    try:
        bit = write_design(directory, **hwh)
        device = device or model_seam()
        with device.active():
            overlay = LeNetOverlay(bit, download=False, device=device)
    except BaseException:
        if temporary:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    if temporary:  # removed with the overlay, or at exit at the latest
        weakref.finalize(overlay, shutil.rmtree, directory, ignore_errors=True)
    return overlay


def open_classifier(args=None):
    """``lenet bench --backend model``: the driver (a Classifier) on a fresh model device."""
    return open_model_overlay().lenet
