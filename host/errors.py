"""What can go wrong on the device, as exceptions the `lenet` CLI prints as one line."""

from __future__ import annotations

from .. import contract as C
from ..errors import LenetError


class LenetDeviceError(LenetError):
    """The device (IP, DMA or their configuration) did not do what the driver asked."""


class LenetConfigError(LenetDeviceError):
    """The .hwh describes a design this driver cannot drive; nothing was touched."""


class LenetTimeoutError(LenetDeviceError):
    """A wait passed its deadline. The message holds the decoded DMA and IP status."""


class LenetDmaError(LenetDeviceError):
    """The AXI DMA set an error bit (DMAIntErr, DMASlvErr, DMADecErr)."""


class LenetJobError(LenetDeviceError):
    """The IP ended a job with an error code (contract section 6).

    Attributes
    ----------
    code : int
        The error code, one of ``contract.ERR_*``.
    name : str
        Its name, e.g. ``"BAD_CRC"``.
    images_done : int
        Images the job classified before the error (INFER).
    """

    def __init__(self, code: int, images_done: int, job: str, hint: str = ""):
        self.code, self.name, self.images_done = code, C.error_name(code), images_done
        text = C.ERROR_TEXT.get(code, f"unknown error code {code} (not in the contract; IP and driver disagree)")
        super().__init__(f"{job} failed with error {code}: {text}" + (f"; {hint}" if hint else ""))


class LenetWeightsError(LenetDeviceError):
    """The IP accepted a weights blob but WEIGHTS_CRC does not read back the blob's CRC word."""
