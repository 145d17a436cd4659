"""The PYNQ overlay: lenet.bit/.hwh (built by `make bitstream`), the notebook and the Overlay class.

Importing :class:`LeNetOverlay` needs pynq; it is loaded on first use so that
``lenet_pynq.overlay`` (the package pynq's entry points name) imports anywhere.
"""


def __getattr__(name):
    if name == "LeNetOverlay":
        from .lenet_overlay import LeNetOverlay

        return LeNetOverlay
    raise AttributeError(name)


__all__ = ["LeNetOverlay"]
