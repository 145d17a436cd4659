"""The images every implementation takes: raw MNIST pixels, uint8, 28x28, unscaled.

One check for all of them (the golden model, the C-sim, the driver), so an
image the board refuses is refused the same way on a PC.
"""

from __future__ import annotations

import numpy as np

from . import contract as C
from .errors import LenetError


class ImageFormatError(LenetError, ValueError):
    """Images that are not uint8 arrays of shape (N, 28, 28) or (N, 784)."""


def as_images(images, who: str = "images") -> np.ndarray:
    """``images`` as a contiguous uint8 array (N, 28, 28); one image becomes a batch of one.

    Raises :class:`ImageFormatError` naming ``who`` (the implementation that
    was handed them) when they are not uint8 or not 28x28 pixels each.
    """
    a = np.asarray(images)
    if a.dtype != np.uint8:
        raise ImageFormatError(
            f"{who}: images are {a.dtype}, expected uint8: pass the raw MNIST pixels 0..255 unscaled "
            "(the 1/255 scale is folded into the first layer)")
    side = C.IMAGE_SIDE
    if a.shape in ((C.IMAGE_BYTES,), (side, side)):
        a = a[None]
    if not (a.ndim == 3 and a.shape[1:] == (side, side) or a.ndim == 2 and a.shape[1] == C.IMAGE_BYTES):
        raise ImageFormatError(f"{who}: images of shape {a.shape}, expected (N, {side}, {side}) or "
                               f"(N, {C.IMAGE_BYTES})")
    return np.ascontiguousarray(a.reshape(-1, side, side))
