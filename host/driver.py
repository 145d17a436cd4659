"""The PYNQ driver of the LeNet IP: load a weights blob, classify images, measure throughput.

:class:`LeNetIP` is a ``pynq.DefaultIP`` bound (``bindto``) to both packagings
of the IP, so ``Overlay`` hands it out for ``lenet_0``. It drives the job
protocol of docs/contract.md section 4 through the block design's AXI DMA
(``pynq.lib.dma.DMA``, simple mode), with these rules:

- Configuration read from the .hwh is checked first (:func:`check_design`);
  an impossible design (scatter-gather DMA, a buffer-length width too small
  for the weights blob, a stream that is not 32 bits wide) is refused with
  :class:`LenetConfigError` before any register is touched.
- ``pynq.allocate`` buffers are made once and reused across batches; a run
  larger than a buffer is split into jobs of at most ``contract.MAX_COUNT``
  images and at most ``2**c_sg_length_width - 1`` bytes per transfer.
- Per job: COMMAND and COUNT, the receive transfer, ``ap_start``, then the
  send transfer (receive first, so the IP's output never waits on the host).
- Every wait has a deadline. ``DMA.wait()`` has none, so the channels' DMASR
  is polled; an error bit raises :class:`LenetDmaError` and a missed deadline
  :class:`LenetTimeoutError`, both with the status registers decoded.
- The job's outcome is read twice, from the trailer word that ends its
  output stream and from STATUS; a non-zero error code raises
  :class:`LenetJobError` with ``contract.ERROR_TEXT``.

Register offsets and bits come from ``lenet_pynq.contract`` (the IP) and
``axi_dma`` (PG021, the DMA); none is written here as a bare number.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
from pynq import DefaultIP, allocate

from .. import contract as C
from ..errors import LenetError
from ..train import blob as blob_file
from . import axi_dma as R

WORD = C.WORD_BYTES
OUT_WORDS_PER_IMAGE = C.RESULT_WORDS


# --- errors --------------------------------------------------------------------

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


class ImageFormatError(LenetError, ValueError):
    """Images that are not uint8 arrays of shape (N, 28, 28) or (N, 784)."""


# --- configuration from the .hwh ---------------------------------------------------

def _param(params: dict, name: str) -> str | None:
    """A parameter by name, whatever the case Vivado used for it."""
    for key in (name, name.lower(), name.upper()):
        if key in params:
            return str(params[key])
    return None


def check_ip_description(desc: dict) -> None:
    """Refuse an ``ip_dict`` entry for ``lenet_0`` that is not our IP as the contract defines it."""
    if desc.get("type") not in (C.VLNV_HLS, C.VLNV_RTL):
        raise LenetConfigError(
            f"{C.BD_IP_NAME} is {desc.get('type')!r}, expected {C.VLNV_HLS} or {C.VLNV_RTL}; "
            "the .hwh belongs to another design (rebuild with `make bitstream`)")
    # Vitis HLS sizes the port to the highest register it generates (it may give 6 bits where
    # the contract's RTL has 7); what matters is that every register the driver uses is reachable.
    width = _param(desc.get("parameters", {}), "C_S_AXI_CONTROL_ADDR_WIDTH")
    if width is not None and 1 << int(width) <= C.REG_IMAGES_DONE:
        raise LenetConfigError(
            f"{C.BD_IP_NAME}: s_axi_control address width {width} cannot reach IMAGES_DONE at "
            f"{C.REG_IMAGES_DONE:#x}; the IP was built from another version of the contract")
    if desc.get("addr_range", 0) < 1 << C.ADDR_WIDTH:
        raise LenetConfigError(
            f"{C.BD_IP_NAME}: address range {desc.get('addr_range')} bytes is smaller than the "
            f"{1 << C.ADDR_WIDTH} bytes of its registers; fix the address editor in vivado_tcl/")


def check_dma_description(desc: dict) -> int:
    """Refuse a DMA this driver cannot use; return its largest transfer in bytes.

    Requirements (PG021 parameter names, as the .hwh spells them): AXI DMA
    7.1, simple mode (``c_include_sg`` 0, ``c_micro_dma`` 0), both channels,
    32-bit memory-map and stream widths, and ``c_sg_length_width`` wide enough
    for one weights blob in a single transfer.
    """
    if desc.get("type") != R.VLNV:
        raise LenetConfigError(f"{C.BD_DMA_NAME} is {desc.get('type')!r}, expected {R.VLNV}")
    p = desc.get("parameters", {})
    problems = []

    def need(name: str, want: str, why: str) -> None:
        got = _param(p, name)
        if got is None:
            problems.append(f"{name} is missing from the .hwh ({why})")
        elif got != want:
            problems.append(f"{name} is {got}, must be {want} ({why})")

    need("c_include_sg", "0", "the driver uses simple mode; rebuild the DMA without scatter-gather")
    need("c_micro_dma", "0", "micro DMA limits a transfer to one burst")
    need("c_include_mm2s", "1", "images and weights go to the IP through MM2S")
    need("c_include_s2mm", "1", "results come back through S2MM")
    for name in ("c_m_axi_mm2s_data_width", "c_m_axis_mm2s_tdata_width",
                 "c_m_axi_s2mm_data_width", "c_s_axis_s2mm_tdata_width"):
        need(name, str(8 * WORD), "the IP's streams are 32 bits wide")
    width = _param(p, "c_sg_length_width")
    max_bytes = R.length_width_max(int(width)) if width is not None else 0
    if max_bytes < C.BLOB_BYTES:
        problems.append(
            f"c_sg_length_width is {width}: transfers of at most {max_bytes} bytes, but a weights blob is "
            f"{C.BLOB_BYTES} bytes in one transfer; set it to 26 in vivado_tcl/ (the default 14 allows 16 KB)")
    if problems:
        raise LenetConfigError(f"{C.BD_DMA_NAME} cannot be used: " + "; ".join(problems))
    return max_bytes


def check_design(ip_dict: dict) -> int:
    """Check both cores of the block design in an overlay's ``ip_dict``; return the DMA's transfer limit."""
    for name in (C.BD_IP_NAME, C.BD_DMA_NAME):
        if name not in ip_dict:
            raise LenetConfigError(
                f"the .hwh has no IP named {name} (it has {sorted(ip_dict)}); "
                "is the .hwh from this project's block design, with the same base name as the .bit?")
    check_ip_description(ip_dict[C.BD_IP_NAME])
    return check_dma_description(ip_dict[C.BD_DMA_NAME])


# --- inputs ----------------------------------------------------------------------

def as_images(images) -> np.ndarray:
    """``images`` as a contiguous uint8 array (N, 784), or :class:`ImageFormatError` saying why not."""
    a = np.asarray(images)
    if a.dtype != np.uint8:
        raise ImageFormatError(
            f"images are {a.dtype}, expected uint8: pass the raw MNIST pixels 0..255 unscaled "
            "(the IP folds the 1/255 scale into its first layer)")
    side = C.IMAGE_SIDE
    if not (a.ndim == 3 and a.shape[1:] == (side, side) or a.ndim == 2 and a.shape[1] == C.IMAGE_BYTES):
        hint = " (one image: add a leading axis, images[None])" if a.shape in ((side, side), (C.IMAGE_BYTES,)) else ""
        raise ImageFormatError(f"images of shape {a.shape}, expected (N, {side}, {side}) or (N, {C.IMAGE_BYTES}){hint}")
    if a.shape[0] == 0:
        raise ImageFormatError("no images to classify (N = 0)")
    return np.ascontiguousarray(a.reshape(-1, C.IMAGE_BYTES))


def read_blob(blob) -> bytes:
    """The bytes of a weights blob given as a path, bytes or array; only its length is checked here.

    The IP checks the rest (magic, version, length word, shifts, CRC) as the
    words arrive and reports the first error; the driver turns it into
    :class:`LenetJobError`. Checking here too would hide that path.
    """
    if isinstance(blob, (str, Path)):
        data = blob_file.read_file(blob)
        where = str(blob)
    else:
        data = np.ascontiguousarray(blob).tobytes() if isinstance(blob, np.ndarray) else bytes(blob)
        where = "weights blob"
    if len(data) != C.BLOB_BYTES:
        raise LenetError(f"{where}: {len(data)} bytes, a LeNet-5 weights blob is {C.BLOB_BYTES} bytes "
                         "(contract section 2); is it truncated, or not a blob? Rebuild it with `lenet quantize`")
    return data


# --- results ---------------------------------------------------------------------

@dataclass
class Classification:
    """What :meth:`LeNetIP.classify` returns.

    Attributes
    ----------
    classes : ndarray of int64, shape (N,)
        The IP's class per image (argmax of the logits, ties to the lowest index).
    logits : ndarray of int32, shape (N, 10)
        The fc3 accumulators.
    batch_seconds : list of float
        Wall time of each job (DMA both ways and the IP), host copies excluded.
    batch_sizes : list of int
        Images in each job.
    """

    classes: np.ndarray
    logits: np.ndarray
    batch_seconds: list[float] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)

    @property
    def images_per_second(self) -> float:
        """Images over the summed job times: the device's throughput as the host sees it."""
        total = sum(self.batch_seconds)
        return sum(self.batch_sizes) / total if total > 0 else float("nan")

    def __repr__(self) -> str:
        return (f"Classification({len(self.classes)} images in {len(self.batch_sizes)} jobs, "
                f"{self.images_per_second:.0f} images/s)")


def _ctrl_text(v: int) -> str:
    bits = [n for b, n in ((C.CTRL_START, "ap_start"), (C.CTRL_DONE, "ap_done"),
                           (C.CTRL_IDLE, "ap_idle"), (C.CTRL_READY, "ap_ready")) if v & b]
    return f"{v:#x} ({', '.join(bits) or 'busy'})"


# --- the driver --------------------------------------------------------------------

class LeNetIP(DefaultIP):
    """Driver of the LeNet-5 IP (``lenet-pynq.org:{hls,rtl}:lenet:1.0``).

    ``Overlay`` creates it for ``lenet_0``; :class:`~lenet_pynq.overlay.LeNetOverlay`
    then attaches the DMA with :meth:`attach_dma`. Typical use::

        ol = LeNetOverlay()
        ol.lenet.load_weights("lenet_int8.bin")
        result = ol.lenet.classify(images)          # uint8 (N, 28, 28)
        result.classes, result.logits

    Attributes
    ----------
    timeout_s : float
        Deadline of a job's waits, plus ``timeout_per_image_s`` per image.
        Generous for the board (a job takes milliseconds); raise both for a
        simulated device.
    batch_size : int
        Images per job when :meth:`classify` is not told otherwise.
    """

    bindto: ClassVar[list[str]] = [C.VLNV_HLS, C.VLNV_RTL]

    DEFAULT_BATCH = 1000

    def __init__(self, description: dict):
        check_ip_description(description)
        super().__init__(description)
        self.dma = None
        self.max_transfer = 0
        self.timeout_s = 2.0
        self.timeout_per_image_s = 0.01
        self.batch_size = self.DEFAULT_BATCH
        self.loaded_crc: int | None = None
        self._in = None  # uint8 input buffer: the blob or a job's images
        self._out = None  # uint32 output buffer: results and the trailer

    def __repr__(self) -> str:
        crc = "no weights" if self.loaded_crc is None else f"weights CRC {self.loaded_crc:#010x}"
        dma = "DMA attached" if self.dma is not None else "no DMA"
        return f"LeNetIP({self.mmio.base_addr:#010x}, {dma}, {crc})"

    # --- setup ---

    def attach_dma(self, dma) -> None:
        """Use ``dma`` (a ``pynq.lib.dma.DMA``) for the streams; its .hwh parameters are checked first."""
        self.max_transfer = check_dma_description(dma.description)
        self.dma = dma

    def _images_per_job(self, batch_size: int) -> int:
        by_in = self.max_transfer // C.IMAGE_BYTES
        by_out = (self.max_transfer // WORD - 1) // OUT_WORDS_PER_IMAGE
        return max(1, min(int(batch_size), C.MAX_COUNT, by_in, by_out))

    def _buffers(self, in_bytes: int, out_words: int):
        """The reused DMA buffers, grown (never shrunk) to the sizes asked for."""
        if self._in is None or self._in.nbytes < in_bytes:
            self._in = allocate(shape=(in_bytes,), dtype=np.uint8, target=self.device)
        if self._out is None or self._out.size < out_words:
            self._out = allocate(shape=(out_words,), dtype=np.uint32, target=self.device)
        return self._in, self._out

    # --- registers ---

    @property
    def status(self) -> int:
        """STATUS: the error code of the last finished job (``contract.ERR_*``)."""
        return self.read(C.REG_STATUS)

    @property
    def weights_crc(self) -> int:
        """WEIGHTS_CRC: the CRC word of the loaded weights, 0 while none are valid."""
        return self.read(C.REG_WEIGHTS_CRC)

    @property
    def images_done(self) -> int:
        """IMAGES_DONE: images classified by the last finished job."""
        return self.read(C.REG_IMAGES_DONE)

    # --- the public API ---

    def load_weights(self, blob) -> int:
        """Send a weights blob to the IP's BRAM and check it arrived.

        Parameters
        ----------
        blob : str, Path, bytes or ndarray
            The ``.bin`` written by ``lenet quantize`` (contract section 2).

        Returns
        -------
        int
            WEIGHTS_CRC as read back, equal to the blob's CRC word.

        Raises
        ------
        LenetError
            The blob is not ``contract.BLOB_BYTES`` long (nothing is sent).
        LenetJobError
            The IP refused the blob (BAD_MAGIC, BAD_CRC, ...).
        LenetWeightsError
            WEIGHTS_CRC does not read back the blob's CRC word.
        """
        data = read_blob(blob)
        expected = int.from_bytes(data[C.PAYLOAD_END:], "little")
        in_buf, _ = self._buffers(C.BLOB_BYTES, 1)
        in_buf[: C.BLOB_BYTES] = np.frombuffer(data, dtype=np.uint8)
        self.loaded_crc = None
        self._job(C.CMD_LOAD_WEIGHTS, 0, C.BLOB_BYTES, 1, "LOAD_WEIGHTS",
                  hint="is the file a weights blob made by `lenet quantize`?")
        crc = self.weights_crc
        if crc != expected:
            raise LenetWeightsError(
                f"LOAD_WEIGHTS reported success but WEIGHTS_CRC reads {crc:#010x}, the blob's CRC word is "
                f"{expected:#010x}; the IP's weight memory or its CRC register is wrong")
        self.loaded_crc = crc
        return crc

    def classify(self, images, batch_size: int | None = None,
                 progress: Callable[[int], None] | None = None) -> Classification:
        """Classify uint8 images on the IP.

        Parameters
        ----------
        images : array_like of uint8, shape (N, 28, 28) or (N, 784)
            Raw MNIST pixels, unscaled.
        batch_size : int, optional
            Images per job (default :attr:`batch_size`); capped by
            ``contract.MAX_COUNT`` and by the DMA's largest transfer.
        progress : callable, optional
            Called with the number of images of each finished job.

        Returns
        -------
        Classification
            Classes, logits and per-job timing.
        """
        x = as_images(images)
        per_job = self._images_per_job(batch_size or self.batch_size)
        classes = np.empty(len(x), dtype=np.int64)
        logits = np.empty((len(x), C.NUM_CLASSES), dtype=np.int32)
        result = Classification(classes, logits)
        for start in range(0, len(x), per_job):
            chunk = x[start:start + per_job]
            words, seconds = self._infer(chunk)
            table = words.reshape(len(chunk), OUT_WORDS_PER_IMAGE)
            classes[start:start + len(chunk)] = table[:, 0]
            logits[start:start + len(chunk)] = table[:, 1:].view(np.int32)
            result.batch_seconds.append(seconds)
            result.batch_sizes.append(len(chunk))
            if progress is not None:
                progress(len(chunk))
        return result

    def throughput(self, images, batch_size: int | None = None, repeats: int = 3) -> Classification:
        """Time the IP alone: each job's images are copied in once, then the job runs ``repeats`` times.

        Returns the :class:`Classification` of the first run, with the timing
        of every run (``batch_seconds`` has ``repeats`` entries per job). A
        repetition whose logits differ from the first run's raises
        :class:`LenetDeviceError`: the same images must give the same integers.
        """
        x = as_images(images)
        per_job = self._images_per_job(batch_size or self.batch_size)
        result = self.classify(x, per_job)
        for start in range(0, len(x), per_job):
            n = min(per_job, len(x) - start)
            self._stage_images(x[start:start + n])
            for _ in range(max(0, repeats - 1)):
                words, seconds = self._run_infer(n)
                logits = words.reshape(n, OUT_WORDS_PER_IMAGE)[:, 1:].view(np.int32)
                if not np.array_equal(logits, result.logits[start:start + n]):
                    raise LenetDeviceError(f"INFER of images {start} ... {start + n - 1} repeated gave other "
                                           "logits than the first run: the IP is not deterministic")
                result.batch_seconds.append(seconds)
                result.batch_sizes.append(n)
        return result

    # --- jobs ---

    def _stage_images(self, chunk: np.ndarray) -> None:
        in_buf, _ = self._buffers(chunk.nbytes, len(chunk) * OUT_WORDS_PER_IMAGE + 1)
        in_buf[: chunk.nbytes] = chunk.reshape(-1)

    def _infer(self, chunk: np.ndarray) -> tuple[np.ndarray, float]:
        if self.loaded_crc is None:
            # The IP would answer NO_WEIGHTS too; saying it here names the fix.
            raise LenetError("no weights loaded by this driver: call load_weights(<blob>) before classify()")
        self._stage_images(chunk)
        return self._run_infer(len(chunk))

    def _run_infer(self, n: int) -> tuple[np.ndarray, float]:
        t0 = time.perf_counter()
        words = self._job(C.CMD_INFER, n, n * C.IMAGE_BYTES, n * OUT_WORDS_PER_IMAGE + 1, f"INFER of {n} images")
        seconds = time.perf_counter() - t0
        if words.size != n * OUT_WORDS_PER_IMAGE:
            raise LenetDeviceError(f"INFER of {n} images returned {words.size} result words, expected "
                                   f"{n * OUT_WORDS_PER_IMAGE} (11 per image, contract section 4)")
        return words, seconds

    def _job(self, command: int, count: int, in_bytes: int, out_words: int, what: str, hint: str = "") -> np.ndarray:
        """Run one job (contract section 4); return its output words without the trailer."""
        if self.dma is None:
            raise LenetError(f"{C.BD_IP_NAME} has no DMA attached: use LeNetOverlay, "
                             f"or attach_dma(overlay.{C.BD_DMA_NAME})")
        if in_bytes > self.max_transfer or out_words * WORD > self.max_transfer:
            raise LenetConfigError(f"{what}: {in_bytes} bytes exceed the DMA's largest transfer {self.max_transfer}")
        ctrl = self.read(C.REG_CTRL)
        if not ctrl & C.CTRL_IDLE:
            raise LenetDeviceError(f"{what}: the IP is not idle (CTRL {_ctrl_text(ctrl)}); a previous job never "
                                   "finished. Reload the overlay to reset it")
        deadline = time.monotonic() + self.timeout_s + self.timeout_per_image_s * count
        self.write(C.REG_COMMAND, command)
        self.write(C.REG_COUNT, count)
        self.dma.recvchannel.transfer(self._out, nbytes=out_words * WORD)
        self.write(C.REG_CTRL, C.CTRL_START)
        self.dma.sendchannel.transfer(self._in, nbytes=in_bytes)
        self._wait_channel(R.MM2S, deadline, what)
        self._wait_channel(R.S2MM, deadline, what)
        self._out.invalidate()
        received = self.dma.read(R.S2MM.LENGTH) // WORD
        words = np.array(self._out[:received])
        parsed = C.parse_trailer(int(words[-1])) if received else None
        if parsed is None:
            raise LenetDeviceError(
                f"{what}: the output stream ended ({received} words) without the trailer word "
                f"(0xA5 in bits 31:24, contract section 4); the IP and the driver disagree on the stream format")
        error, images_done = parsed
        self._wait_done(deadline, what)
        status = self.status
        if status != error:
            raise LenetDeviceError(f"{what}: the trailer says error {error} ({C.error_name(error)}) but STATUS "
                                   f"reads {status} ({C.error_name(status)}); the IP's outputs are inconsistent")
        if error != C.ERR_OK:
            raise LenetJobError(error, images_done, what, hint)
        return words[:-1]

    # --- waits with deadlines ---

    def _status_report(self) -> str:
        mm2s, s2mm = self.dma.read(R.MM2S.DMASR), self.dma.read(R.S2MM.DMASR)
        return (f"MM2S_DMASR {R.decode_status(mm2s)}, S2MM_DMASR {R.decode_status(s2mm)}, "
                f"IP CTRL {_ctrl_text(self.read(C.REG_CTRL))}")

    def _wait_channel(self, ch: R.Channel, deadline: float, what: str) -> None:
        while True:
            sr = self.dma.read(ch.DMASR)
            if sr & R.SR_ERRORS:
                report = self._status_report()
                self.reset_dma()
                raise LenetDmaError(f"{what}: the DMA's {ch.name} channel stopped with {R.decode_status(sr)}; "
                                    f"{report}. The DMA was reset")
            if sr & R.SR_IDLE:
                # acknowledge IOC_Irq (write 1 to clear): the board wires the DMA's interrupts to the PS
                self.dma.write(ch.DMASR, sr & R.SR_IRQ_BITS)
                return
            if time.monotonic() > deadline:
                report = self._status_report()
                self.reset_dma()
                hint = ("the IP never ended its output with TLAST, or produced fewer words than expected"
                        if ch is R.S2MM else "the IP stopped accepting input (in_r_TREADY low)")
                raise LenetTimeoutError(f"{what}: {ch.name} transfer not finished after the deadline "
                                        f"({self.timeout_s:g} s + {self.timeout_per_image_s:g} s per image): "
                                        f"{hint}. Status: {report}. The DMA was reset; reload the overlay "
                                        "if the IP stays busy")

    def _wait_done(self, deadline: float, what: str) -> None:
        while True:
            ctrl = self.read(C.REG_CTRL)
            if ctrl & (C.CTRL_DONE | C.CTRL_IDLE):
                return
            if time.monotonic() > deadline:
                raise LenetTimeoutError(f"{what}: the output stream ended but ap_done never rose "
                                        f"(CTRL {_ctrl_text(ctrl)}); the IP is stuck")

    def reset_dma(self) -> None:
        """Soft-reset the DMA (PG021 DMACR.Reset) and restart both channels, aborting any transfer."""
        self.dma.write(R.MM2S.DMACR, R.CR_RESET)
        deadline = time.monotonic() + self.timeout_s
        while self.dma.read(R.MM2S.DMACR) & R.CR_RESET and time.monotonic() < deadline:
            pass
        self.dma.sendchannel.start()
        self.dma.recvchannel.start()
