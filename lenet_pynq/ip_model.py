"""A Python model of the LeNet IP at the protocol level (docs/contract.md 3, 4, 6).

It answers register reads and writes and consumes stream words exactly as the
IP must, so the driver's tests, the RTL testbench and the HLS C-sim protocol
tests can all be checked against one reference. The arithmetic is the golden
model's.

Interface:

``DeviceModel()``
    Power-on state: idle, STATUS 0, no weights (WEIGHTS_CRC 0).
``read(offset) -> int``
    A 32-bit register read on ``s_axi_control``, with the read side effects:
    reading CTRL clears ``ap_done`` and ``ap_ready``; reading an output's
    ``ap_vld`` word (offset + 4) clears it. CTRL bit 9 is the interrupt pin.
``write(offset, value)``
    A register write. ``CTRL`` bit 0 starts a job when the IP is idle (writes
    of 0, or while a job runs, change nothing) and every CTRL write sets
    ``auto_restart`` to bit 7; ISR bits toggle where a 1 is written;
    read-only and unlisted offsets ignore writes.
``stream(words, last=None, with_last=False) -> np.ndarray``
    Offer input words to ``in_r`` (``last``: per-word TLAST flags; default
    TLAST on the final word only). Returns every output word produced since
    the previous call, uint32 (and their TLAST flags if ``with_last``).
    Words offered with no job running wait and are consumed, in order, by
    the next job (the IP may take up to two of them into its input register
    slice while idle, contract section 4; where they wait is not visible here).
``run_job(command, words=(), count=0, last=None) -> np.ndarray``
    COMMAND, COUNT, ``CTRL = 1``, then ``stream``: one whole job.
``interrupt``
    The level of the ``interrupt`` pin: ``GIE & (ISR[0] | ISR[1])``.
``reset()``
    ``ap_rst_n``: back to power-on; words waiting and output not yet taken
    are dropped, loaded weights are lost.

Control timing (Vitis HLS ``ap_ctrl_hs`` for a sequential top function,
which ends its run in the state that also reads its last input): the IP
accepts a job at its end, so while a job runs CTRL reads ``ap_start`` 1 and
``ap_idle`` 0; at the end ``ap_start`` clears and ``ap_done``, ``ap_ready``,
``ap_idle`` rise together, after STATUS, WEIGHTS_CRC and IMAGES_DONE are
updated. ISR bits are set by ``ap_done``/``ap_ready`` only where IER enables
them. With ``auto_restart`` set, a job's end starts the next job at once with
the same COMMAND and COUNT, and CTRL's ``ap_done``/``ap_ready`` are not set
(ISR still is), as the ``<top>_control_s_axi.v`` of Vitis HLS does.

Order of checks within one word (contract section 6 leaves it to "the order
the words arrive"): a word's contents (magic, version, length, shifts, CRC)
are checked before its TLAST flag, so a bad header word that also carries
TLAST reports the header error.
"""

from __future__ import annotations

import zlib

import numpy as np

from . import blob, golden
from . import contract as C


def pack_images(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, 28, 28) or (N, 784) -> INFER input words (N*196,), four pixels a word, first in bits 7:0."""
    a = np.ascontiguousarray(images, dtype=np.uint8).reshape(-1, C.IMAGE_BYTES)
    return a.view("<u4").reshape(-1).astype(np.uint32)


def unpack_images(words: np.ndarray) -> np.ndarray:
    """INFER input words -> uint8 images (N, 784); the inverse of :func:`pack_images`."""
    return np.ascontiguousarray(words, dtype="<u4").view(np.uint8).reshape(-1, C.IMAGE_BYTES)


class _Job:
    """The state of the job being run."""

    def __init__(self, command: int, count: int, error: int) -> None:
        self.command = command
        self.expected = C.BLOB_WORDS if command == C.CMD_LOAD_WEIGHTS else count * C.IMAGE_WORDS
        self.error = error  # the first error; once set, input is discarded up to TLAST
        self.taken = 0  # words consumed that belong to the job (not discarded ones)
        self.buffer: list[np.ndarray] = []  # blob words, or the words of the image being received
        self.images_done = 0
        self.crc = 0  # LOAD_WEIGHTS: the CRC of the blob's words, once they have all arrived


class DeviceModel:
    """The LeNet IP as seen from its register file and its two streams (see the module docstring)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.weights: blob.QuantizedLeNet | None = None
        self._weights_crc = 0
        self._command = self._count = 0
        self._gie = self._ier = self._isr = 0
        self._status = self._images_done = 0
        self._done = self._ready = self._auto_restart = False
        self._vld = dict.fromkeys(C.REG_OUTPUTS, False)
        self._job: _Job | None = None
        self._in_words = np.zeros(0, np.uint32)
        self._in_last = np.zeros(0, bool)
        self._out: list[tuple[np.ndarray, np.ndarray]] = []

    def __repr__(self) -> str:
        state = "running" if self._job else "idle"
        return (f"DeviceModel({state}, STATUS {C.error_name(self._status)}, "
                f"WEIGHTS_CRC {self._weights_crc:#010x}, {len(self._in_words)} input words waiting)")

    # --- registers -------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._job is not None

    @property
    def interrupt(self) -> bool:
        return bool(self._gie & 1) and bool(self._isr & (C.ISR_DONE | C.ISR_READY))

    def read(self, offset: int) -> int:
        _check_offset(offset)
        if offset == C.REG_CTRL:
            value = ((C.CTRL_START if self._job else 0) | (C.CTRL_DONE if self._done else 0)
                     | (0 if self._job else C.CTRL_IDLE) | (C.CTRL_READY if self._ready else 0)
                     | (C.CTRL_AUTO_RESTART if self._auto_restart else 0)
                     | (C.CTRL_INTERRUPT if self.interrupt else 0))
            self._done = self._ready = False
            return value
        output = offset - C.VLD_OFFSET
        if output in self._vld:
            value, self._vld[output] = int(self._vld[output]), False
            return value
        return {
            C.REG_GIE: self._gie, C.REG_IER: self._ier, C.REG_ISR: self._isr,
            C.REG_COMMAND: self._command, C.REG_COUNT: self._count,
            C.REG_STATUS: self._status, C.REG_WEIGHTS_CRC: self._weights_crc,
            C.REG_IMAGES_DONE: self._images_done,
        }.get(offset, 0)

    def write(self, offset: int, value: int) -> None:
        _check_offset(offset)
        value &= 0xFFFFFFFF
        if offset == C.REG_CTRL:
            self._auto_restart = bool(value & C.CTRL_AUTO_RESTART)
            if value & C.CTRL_START and self._job is None:
                self._start()
                self._advance()
        elif offset == C.REG_GIE:
            self._gie = value & 1
        elif offset == C.REG_IER:
            self._ier = value & (C.ISR_DONE | C.ISR_READY)
        elif offset == C.REG_ISR:
            self._isr ^= value & (C.ISR_DONE | C.ISR_READY)
        elif offset == C.REG_COMMAND:
            self._command = value
        elif offset == C.REG_COUNT:
            self._count = value

    # --- streams ---------------------------------------------------------

    def stream(self, words=(), last=None, with_last: bool = False):
        words = np.asarray(words).reshape(-1)
        if words.dtype != np.uint32:  # uint32 words (what a DMA buffer holds) need no check and no copy
            words = words.astype(np.int64)
            if words.size and (words.min() < 0 or words.max() > 0xFFFFFFFF):
                raise ValueError(f"stream words span {words.min()}..{words.max()}; they must be 0..0xFFFFFFFF "
                                 "(pass a uint32 array, as a DMA buffer holds)")
            words = words.astype(np.uint32)
        if last is None:
            last = np.zeros(words.size, bool)
            last[-1:] = True
        last = np.asarray(last, dtype=bool).reshape(-1)
        if last.size != words.size:
            raise ValueError(f"last has {last.size} flags for {words.size} words")
        if self._in_words.size:
            words, last = np.concatenate([self._in_words, words]), np.concatenate([self._in_last, last])
        self._in_words, self._in_last = words, last
        self._advance()
        if self._in_words.size:  # words and flags kept for the next job must not change with the caller's
            self._in_words, self._in_last = self._in_words.copy(), self._in_last.copy()
        out = [w for w, _ in self._out]
        flags = [f for _, f in self._out]
        self._out = []
        out = np.concatenate(out) if out else np.zeros(0, np.uint32)
        return (out, np.concatenate(flags) if flags else np.zeros(0, bool)) if with_last else out

    def run_job(self, command: int, words=(), count: int = 0, last=None, with_last: bool = False):
        """One whole job: write COMMAND and COUNT, start, send ``words``; returns the output words."""
        self.write(C.REG_COMMAND, command)
        self.write(C.REG_COUNT, count)
        self.write(C.REG_CTRL, C.CTRL_START)
        return self.stream(words, last, with_last)

    # --- the job ---------------------------------------------------------

    def _start(self) -> None:
        command, count = self._command, self._count
        error = C.ERR_OK
        if command not in (C.CMD_LOAD_WEIGHTS, C.CMD_INFER):
            error = C.ERR_BAD_COMMAND
        elif command == C.CMD_INFER and not 1 <= count <= C.MAX_COUNT:
            error = C.ERR_BAD_COUNT
        elif command == C.CMD_INFER and self.weights is None:
            error = C.ERR_NO_WEIGHTS
        self._job = _Job(command, count, error)
        if command == C.CMD_LOAD_WEIGHTS:
            self.weights = None  # the load overwrites the memory: invalid until it succeeds

    def _advance(self) -> None:
        """Consume waiting input words while a job runs, finishing jobs at their TLAST."""
        while self._job is not None and self._in_words.size:
            job = self._job
            if job.error != C.ERR_OK:
                self._discard_to_tlast()
            elif job.command == C.CMD_LOAD_WEIGHTS:
                self._load_words()
            else:
                self._infer_words()

    def _take(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        w, f = self._in_words[:n], self._in_last[:n]
        self._in_words, self._in_last = self._in_words[n:], self._in_last[n:]
        return w, f

    def _discard_to_tlast(self) -> None:
        hits = np.flatnonzero(self._in_last)
        if hits.size:
            self._take(int(hits[0]) + 1)
            self._finish()
        else:
            self._take(self._in_words.size)

    def _take_job_words(self, limit: int | None = None) -> tuple[np.ndarray, bool]:
        """Up to the job's remaining words (and ``limit``), stopping at a TLAST: (words, TLAST on the last)."""
        job = self._job
        n = min(self._in_words.size, job.expected - job.taken, limit or job.expected)
        hits = np.flatnonzero(self._in_last[:n])
        if hits.size:
            n = int(hits[0]) + 1
        words, flags = self._take(n)
        job.taken += n
        return words, bool(flags[-1])

    def _load_words(self) -> None:
        job = self._job
        if job.taken < C.HEADER_WORDS:  # header words one by one: each is checked as it arrives
            index = job.taken
            words, tlast = self._take_job_words(limit=1)
            job.error = _header_error(index, int(words[0]))
        else:
            words, tlast = self._take_job_words()
        job.buffer.append(words.copy())  # the caller may reuse its array before the blob is whole
        if job.error == C.ERR_OK and job.taken == job.expected:
            data = np.concatenate(job.buffer).astype("<u4").tobytes()
            job.crc = zlib.crc32(data[: C.PAYLOAD_END])
            if job.crc != int.from_bytes(data[C.PAYLOAD_END:], "little"):
                job.error = C.ERR_BAD_CRC
            elif not tlast:
                job.error = C.ERR_LATE_TLAST
            else:
                self.weights = blob.decode(data, where="LOAD_WEIGHTS stream")
        elif job.error == C.ERR_OK and tlast:
            job.error = C.ERR_EARLY_TLAST
        if tlast:
            self._finish()

    def _infer_words(self) -> None:
        job = self._job
        words, tlast = self._take_job_words()
        pending = np.concatenate(job.buffer + [words]) if any(b.size for b in job.buffer) else words
        complete = pending.size // C.IMAGE_WORDS * C.IMAGE_WORDS
        if complete:
            logits = golden.run(self.weights, unpack_images(pending[:complete]))
            self._emit(golden.result_words(logits))
            job.images_done += complete // C.IMAGE_WORDS
        job.buffer = [pending[complete:].copy()]  # an image cut across two transfers
        if job.taken == job.expected:
            if not tlast:
                job.error = C.ERR_LATE_TLAST
            else:
                self._finish()
        elif tlast:
            job.error = C.ERR_EARLY_TLAST
            self._finish()

    def _emit(self, words: np.ndarray, tlast: bool = False) -> None:
        flags = np.zeros(words.size, bool)
        flags[-1:] = tlast
        self._out.append((words.astype(np.uint32), flags))

    def _finish(self) -> None:
        job, self._job = self._job, None
        if job.command == C.CMD_LOAD_WEIGHTS:
            if job.error != C.ERR_OK:
                self.weights = None
            self._weights_crc = job.crc if self.weights else 0
        self._status, self._images_done = job.error, job.images_done
        self._vld = dict.fromkeys(C.REG_OUTPUTS, True)
        self._emit(np.array([C.trailer(job.error, job.images_done)], np.uint32), tlast=True)
        self._isr |= self._ier & (C.ISR_DONE | C.ISR_READY)
        if self._auto_restart:
            self._start()  # consumed by the _advance loop that finished this job
        else:
            self._done = self._ready = True


def _header_error(index: int, word: int) -> int:
    """The error a blob header word causes at word ``index`` (contract section 6), or ERR_OK."""
    if index == 0 and word != C.BLOB_MAGIC:
        return C.ERR_BAD_MAGIC
    if index == 1 and word != C.BLOB_VERSION:
        return C.ERR_BAD_VERSION
    if index == 2 and word != C.BLOB_WORDS:
        return C.ERR_BAD_LENGTH
    if index == 3 and word & ~C.SHIFT_MASK & 0xFFFFFFFF:
        return C.ERR_BAD_SHIFT
    return C.ERR_OK


def _check_offset(offset: int) -> None:
    if not 0 <= offset < 1 << C.ADDR_WIDTH or offset % 4:
        raise ValueError(f"register offset {offset:#x} is not a word address below {1 << C.ADDR_WIDTH:#x}")
