"""The LeNet overlay: ``lenet.bit`` + ``lenet.hwh`` with the driver attached.

``LeNetOverlay()`` loads the bitstream installed beside this module (where
``make bitstream`` puts it and ``pip install .`` packages it) and exposes
``lenet`` (the :class:`~lenet_pynq.host.driver.LeNetIP` of ``lenet_0``, with
the DMA ``axi_dma_0`` attached). Before pynq reads anything, the pair is
checked against its build record ``lenet.json`` (lenet_pynq/build_record.py:
the SHA-256 of both files, the contract version), and the design read from
the .hwh is checked before the bitstream is downloaded, so a .bit with
another build's .hwh never touches the board.
"""

from __future__ import annotations

from pathlib import Path

from pynq import Overlay

from .. import contract as C
from ..build_record import check_pair
from ..errors import LenetError
from ..host.design import check_design
from ..host.driver import LeNetIP

BITFILE = Path(__file__).resolve().parent / "lenet.bit"


def _board_device():
    """pynq's active device, or a LenetError saying where LeNetOverlay runs."""
    from pynq import Device

    try:
        return Device.active_device
    except RuntimeError as e:
        raise LenetError(
            f"pynq found no FPGA ({e}): LeNetOverlay() programs the PYNQ-Z2 it runs on. Off the board use "
            "`lenet bench --backend model` or lenet_pynq.sim.model_overlay.open_model_overlay()") from None


class LeNetOverlay(Overlay):
    """The LeNet-5 accelerator overlay for the PYNQ-Z2.

    Parameters
    ----------
    bitfile : str or Path, optional
        The .bit to load (its .hwh and its build record .json must sit
        beside it with the same base name); default ``lenet.bit`` in this
        package.
    download : bool
        Program the PL (default). The off-board seam passes False.
    device : pynq.Device, optional
        Where to load it; default the board (``pynq.Device.active_device``).
    **kwargs
        Passed to ``pynq.Overlay``.

    Attributes
    ----------
    lenet : LeNetIP
        The driver of ``lenet_0``, ready for ``load_weights`` and ``classify``.
    """

    def __init__(self, bitfile: str | Path | None = None, download: bool = True, device=None, **kwargs):
        bit = Path(bitfile) if bitfile is not None else BITFILE
        hwh = bit.with_suffix(".hwh")
        if not bit.is_file() or not hwh.is_file():
            missing = " and ".join(str(p) for p in (bit, hwh) if not p.is_file())
            raise LenetError(
                f"{missing} not found: build the overlay with `make bitstream` (Vivado 2024.1) and copy "
                "lenet.bit, lenet.hwh and lenet.json together into overlay/ (same base name), then `pip install .`")
        check_pair(bit, hwh)
        if device is None:
            device = _board_device()
        super().__init__(str(bit), download=False, device=device, **kwargs)
        check_design(self.ip_dict)
        if download:
            self.download()
        self.lenet: LeNetIP = getattr(self, C.BD_IP_NAME)
        self.lenet.overlay = self  # the overlay lives as long as its driver is in use
        self.lenet.attach_dma(getattr(self, C.BD_DMA_NAME))


def open_classifier(args=None) -> LeNetIP:
    """``lenet bench --backend pynq``: the board's overlay (``--bitfile``, default the installed one)."""
    bitfile = getattr(args, "bitfile", None)
    return (LeNetOverlay(bitfile) if bitfile else LeNetOverlay()).lenet
