"""The PYNQ driver of the LeNet IP: load a weights blob, classify images, measure throughput.

:class:`LeNetIP` is a ``pynq.DefaultIP`` bound (``bindto``) to both packagings
of the IP, so ``Overlay`` hands it out for ``lenet_0``. It checks the design
(:mod:`.design`), then drives the job protocol of docs/contract.md section 4
through the block design's AXI DMA in simple mode (:mod:`.jobs`). It is a
:class:`~lenet_pynq.classifier.Classifier`, like every other backend.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

import numpy as np
from pynq import DefaultIP

from .. import blob as blob_file
from .. import contract as C
from ..classifier import Classification
from ..errors import LenetError
from ..images import ImageFormatError, as_images
from . import JOB_IMAGES
from .design import check_dma_description, check_ip_description
from .errors import LenetConfigError, LenetDeviceError, LenetWeightsError
from .jobs import WORD, JobRunner


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
    integer = True

    def __init__(self, description: dict):
        check_ip_description(description)
        super().__init__(description)
        self.jobs: JobRunner | None = None
        self.timeout_s = 2.0
        self.timeout_per_image_s = 0.01
        self.batch_size = JOB_IMAGES
        self.loaded_crc: int | None = None

    @property
    def label(self) -> str:
        """What classifies: "FPGA" on the board; an off-board device seam names itself."""
        return getattr(self.device, "lenet_label", "FPGA")

    def __repr__(self) -> str:
        crc = "no weights" if self.loaded_crc is None else f"weights CRC {self.loaded_crc:#010x}"
        dma = "DMA attached" if self.jobs is not None else "no DMA"
        return f"LeNetIP({self.mmio.base_addr:#010x}, {dma}, {crc})"

    def attach_dma(self, dma) -> None:
        """Use ``dma`` (a ``pynq.lib.dma.DMA``) for the streams; its .hwh parameters are checked first."""
        self.jobs = JobRunner(self, dma, check_dma_description(dma.description))

    @property
    def dma(self):
        return self.jobs.dma if self.jobs else None

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
        """Send a weights blob (path, bytes or array; contract section 2) to the IP and check it arrived.

        Returns WEIGHTS_CRC as read back. Raises :class:`LenetError` for a blob
        of the wrong length (nothing is sent), :class:`LenetJobError` when the
        IP refuses it (BAD_MAGIC, BAD_CRC, ...), :class:`LenetWeightsError`
        when WEIGHTS_CRC does not read back the blob's CRC word.
        """
        data = blob_file.as_bytes(blob)
        expected = int.from_bytes(data[C.PAYLOAD_END:], "little")
        in_buf, _ = self._runner().buffers(C.BLOB_BYTES, 1)
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
        """Classify uint8 images (N, 28, 28) or (N, 784), raw pixels, in jobs of ``batch_size`` images.

        ``batch_size`` (default :attr:`batch_size`) is capped by
        ``contract.MAX_COUNT`` and the DMA's largest transfer; ``progress`` is
        called with the image count of each finished job.
        """
        x = self._images(images)
        per_job = self._images_per_job(batch_size or self.batch_size)
        result = Classification(np.empty(len(x), dtype=np.int64), np.empty((len(x), C.NUM_CLASSES), np.int32))
        for start in range(0, len(x), per_job):
            chunk = x[start:start + per_job]
            if self.loaded_crc is None:
                # The IP would answer NO_WEIGHTS too; saying it here names the fix.
                raise LenetError("no weights loaded by this driver: call load_weights(<blob>) before classify()")
            self._stage_images(chunk)
            words, seconds = self._run_infer(len(chunk))
            self._store(result, start, words)
            result.batch_seconds.append(seconds)
            result.batch_sizes.append(len(chunk))
            if progress is not None:
                progress(len(chunk))
        return result

    def throughput(self, images, batch_size: int | None = None, repeats: int = 3) -> Classification:
        """Time the IP and the DMA alone, on pre-allocated buffers, warm-up excluded.

        Each job's images are classified once (the warm-up, which also stages
        them in the input buffer and is not timed), then the same job runs
        ``repeats`` more times on the staged buffer. Returns the
        :class:`Classification` of the warm-up run with the timing of the
        repeats only (``batch_seconds`` has ``repeats`` entries per job). A
        repetition whose logits differ from the first run's raises
        :class:`LenetDeviceError`: the same images must give the same integers.
        """
        x = self._images(images)
        per_job = self._images_per_job(batch_size or self.batch_size)
        result = self.classify(x, per_job)
        result.batch_seconds, result.batch_sizes = [], []
        for start in range(0, len(x), per_job):
            n = min(per_job, len(x) - start)
            self._stage_images(x[start:start + n])
            for _ in range(repeats):
                words, seconds = self._run_infer(n)
                logits = words.reshape(n, C.RESULT_WORDS)[:, 1:].view(np.int32)
                if not np.array_equal(logits, result.logits[start:start + n]):
                    raise LenetDeviceError(f"INFER of images {start} ... {start + n - 1} repeated gave other "
                                           "logits than the first run: the IP is not deterministic")
                result.batch_seconds.append(seconds)
                result.batch_sizes.append(n)
        return result

    def reset_dma(self) -> None:
        """Soft-reset the DMA (PG021 DMACR.Reset) and restart both channels, aborting any transfer."""
        self._runner().reset_dma()

    def use_interrupt(self, interrupt=None) -> None:
        """Wait for each job's end on the IP's interrupt instead of polling (polling is the default).

        ``interrupt`` defaults to ``pynq.Interrupt("lenet_0/interrupt")``,
        which pynq 3.1 can give only when the pin reaches the PS through an
        AXI interrupt controller (pynq/metadata/interrupt_controllers_view.py);
        anything with the same coroutine ``wait()`` will do. Every wait keeps
        its deadline. Raises :class:`LenetConfigError` when pynq cannot attach
        to the pin; the driver then keeps polling.
        """
        if interrupt is None:
            from pynq import Interrupt

            pin = f"{C.BD_IP_NAME}/interrupt"
            try:
                interrupt = Interrupt(pin)
            except Exception as e:  # pynq raises ValueError, RuntimeError, OSError... depending on what is missing
                raise LenetConfigError(
                    f"pynq cannot wait on the interrupt {pin} ({type(e).__name__}: {e}); pynq sees interrupts "
                    "only through an axi_intc in the block design: use an overlay built with one, or keep the "
                    "default polling wait") from None
        self._runner().use_interrupt(interrupt)

    def use_polling(self) -> None:
        """Find each job's end by polling DMASR and CTRL, every wait with its deadline (the default)."""
        self._runner().use_interrupt(None)

    # --- jobs ---

    @staticmethod
    def _images(images) -> np.ndarray:
        x = as_images(images, "LeNetIP.classify").reshape(-1, C.IMAGE_BYTES)
        if len(x) == 0:
            raise ImageFormatError("LeNetIP.classify: no images to classify (N = 0)")
        return x

    @staticmethod
    def _store(result: Classification, start: int, words: np.ndarray) -> None:
        table = words.reshape(-1, C.RESULT_WORDS)
        result.classes[start:start + len(table)] = table[:, 0]
        result.logits[start:start + len(table)] = table[:, 1:].view(np.int32)

    def _runner(self) -> JobRunner:
        if self.jobs is None:
            raise LenetError(f"{C.BD_IP_NAME} has no DMA attached: use LeNetOverlay, "
                             f"or attach_dma(overlay.{C.BD_DMA_NAME})")
        return self.jobs

    def _images_per_job(self, batch_size: int) -> int:
        limit = self._runner().max_transfer
        by_in = limit // C.IMAGE_BYTES
        by_out = (limit // WORD - 1) // C.RESULT_WORDS
        return max(1, min(int(batch_size), C.MAX_COUNT, by_in, by_out))

    def _stage_images(self, chunk: np.ndarray) -> None:
        in_buf, _ = self._runner().buffers(chunk.nbytes, len(chunk) * C.RESULT_WORDS + 1)
        in_buf[: chunk.nbytes] = chunk.reshape(-1)

    def _run_infer(self, n: int) -> tuple[np.ndarray, float]:
        t0 = time.perf_counter()
        words = self._job(C.CMD_INFER, n, n * C.IMAGE_BYTES, n * C.RESULT_WORDS + 1, f"INFER of {n} images")
        seconds = time.perf_counter() - t0
        if words.size != n * C.RESULT_WORDS:
            raise LenetDeviceError(f"INFER of {n} images returned {words.size} result words, expected "
                                   f"{n * C.RESULT_WORDS} (11 per image, contract section 4)")
        return words, seconds

    def _job(self, command: int, count: int, in_bytes: int, out_words: int, what: str, hint: str = ""):
        deadline = time.monotonic() + self.timeout_s + self.timeout_per_image_s * count
        return self._runner().run(command, count, in_bytes, out_words, deadline, what, hint)
