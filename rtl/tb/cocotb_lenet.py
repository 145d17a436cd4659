"""cocotb tests of the LeNet IP (rtl/ or the Vitis HLS export), run by tests/test_rtl_sim.py.

Every test drives the IP only through its ports with cocotbext-axi bus
models and checks it against the protocol-level DeviceModel (whose
arithmetic is the golden model): each job's output words one by one, and
the registers after it. Tests taking ``pauses`` run twice: with a steady
stream, and with random idle cycles on the input and random backpressure
on the output.

Environment (set by the pytest wrapper):
``LENET_VECTORS``  a `lenet export` directory (weights.bin, infer_in.bin, ...)
``LENET_IMAGES``   how many of its images the big INFER job sends (default all)
``LENET_BENCH_OUT`` where test_bench writes its cycle counts (JSON)
``LENET_RTL_DUMP``  where test_layers writes the RTL's per-layer dump (contract section 7)
``LENET_LAYER_IMAGES`` how many images test_layers dumps and checks (default 3)
``LENET_IP``        ``hls`` when the IP is the Vitis HLS export (no internal signals to watch)
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import cocotb
import numpy as np
from bank_layout import BankLayout
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, with_timeout
from cocotbext.axi import (
    AxiLiteBus,
    AxiLiteMaster,
    AxiStreamBus,
    AxiStreamFrame,
    AxiStreamSink,
    AxiStreamSource,
)

from lenet_pynq import blob, dumps
from lenet_pynq import contract as C
from lenet_pynq.ip_model import DeviceModel, pack_images

CLOCK_NS = 10
# Cycles an image may take before a test calls the IP hung (the RTL needs ~1,500 at 64 lanes, ~5,800 at 16).
IMAGE_CYCLES_LIMIT = 40_000
LOAD_CYCLES_LIMIT = 4 * C.BLOB_WORDS + 1000


def _vectors() -> Path:
    return Path(os.environ["LENET_VECTORS"])


def _words(name: str) -> np.ndarray:
    return np.fromfile(_vectors() / name, dtype="<u4")


def _random_pauses(seed: int, busy: float):
    rng = random.Random(seed)
    while True:
        yield rng.random() < busy


class TB:
    """The IP with its bus models and, beside it, the DeviceModel it must match."""

    def __init__(self, dut, pauses: bool = False):
        self.dut = dut
        self.model = DeviceModel()
        self.log = dut._log
        cocotb.start_soon(Clock(dut.ap_clk, CLOCK_NS, unit="ns").start())
        self.source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "in_r"), dut.ap_clk, dut.ap_rst_n,
                                      reset_active_level=False)
        self.sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "out_r"), dut.ap_clk, dut.ap_rst_n,
                                  reset_active_level=False)
        self.axil = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axi_control"), dut.ap_clk, dut.ap_rst_n,
                                  reset_active_level=False)
        for logger in (self.source.log, self.sink.log, self.axil.write_if.log, self.axil.read_if.log):
            logger.setLevel("WARNING")
        self.set_pauses(pauses)

    def set_pauses(self, on: bool, seed: int = 1):
        if on:
            self.source.set_pause_generator(_random_pauses(seed, 0.3))
            self.sink.set_pause_generator(_random_pauses(seed + 1, 0.4))
        else:
            self.source.clear_pause_generator()
            self.sink.clear_pause_generator()

    async def reset(self):
        """ap_rst_n low for a few cycles: the IP and the model go back to power-on."""
        self.dut.ap_rst_n.value = 0
        await ClockCycles(self.dut.ap_clk, 4)
        self.dut.ap_rst_n.value = 1
        await ClockCycles(self.dut.ap_clk, 2)
        self.model.reset()

    # --- registers, mirrored on the model -------------------------------------

    async def write(self, offset: int, value: int):
        await self.axil.write_dword(offset, value)
        self.model.write(offset, value)

    async def read(self, offset: int) -> int:
        """Read a register from the IP and the model; they must agree."""
        got = await self.axil.read_dword(offset)
        want = self.model.read(offset)
        assert got == want, f"register {offset:#04x}: IP {got:#010x}, model {want:#010x}"
        return got

    async def check_registers(self):
        for offset in (C.REG_STATUS, C.REG_WEIGHTS_CRC, C.REG_IMAGES_DONE, C.REG_CTRL):
            await self.read(offset)

    # --- jobs -----------------------------------------------------------------

    async def job(self, command: int, words, count: int = 0, cycles: int | None = None) -> np.ndarray:
        """One job: arguments, ap_start, the input as one frame (TLAST on its last word).

        Returns the output words up to TLAST after checking every one of them,
        and the registers, against the model.
        """
        words = np.asarray(words, dtype=np.uint32)
        await self.write(C.REG_COMMAND, command)
        await self.write(C.REG_COUNT, count)
        await self.axil.write_dword(C.REG_CTRL, C.CTRL_START)
        self.model.write(C.REG_CTRL, C.CTRL_START)
        want = self.model.stream(words)
        if words.size:
            await self.source.send(AxiStreamFrame(words.astype("<u4").tobytes()))
        limit = cycles or (LOAD_CYCLES_LIMIT + 2 * words.size + IMAGE_CYCLES_LIMIT * max(count, 1))
        frame = await with_timeout(self.sink.recv(), limit * CLOCK_NS, "ns")
        got = np.frombuffer(bytes(frame.tdata), dtype="<u4")
        assert got.size == want.size, f"job {command}: {got.size} output words, model {want.size}"
        bad = np.flatnonzero(got != want)
        assert not bad.size, (f"job {command}: {bad.size} of {got.size} output words differ, first at "
                              f"word {bad[0]}: IP {got[bad[0]]:#010x}, model {want[bad[0]]:#010x}")
        await self.check_registers()
        return got

    async def load(self, blob_words) -> np.ndarray:
        return await self.job(C.CMD_LOAD_WEIGHTS, blob_words)

    async def infer(self, image_words, count: int) -> np.ndarray:
        return await self.job(C.CMD_INFER, image_words, count)


async def _started(dut, pauses=False) -> TB:
    tb = TB(dut, pauses)
    await tb.reset()
    return tb


def _blob_words(q) -> np.ndarray:
    return np.frombuffer(blob.encode(q), dtype="<u4")


# --- bit-exactness on the exported vectors ------------------------------------


@cocotb.test()
@cocotb.parametrize(pauses=[False, True])
async def test_vectors(dut, pauses):
    """The exported blob and images: every output word equals the golden model's (via the vectors)."""
    tb = await _started(dut, pauses)
    doc = json.loads((_vectors() / "vectors.json").read_text())
    load_in = _words("load_in.bin")
    assert (await tb.load(load_in)).tolist() == _words("load_out.bin").tolist()
    assert await tb.read(C.REG_WEIGHTS_CRC) == int(doc["weights_crc"], 16)
    n = min(int(os.environ.get("LENET_IMAGES", doc["count"])), doc["count"])
    if pauses:
        n = min(n, 16)  # gaps and backpressure matter at image boundaries, not per image
    infer_in = _words("infer_in.bin")[: n * C.IMAGE_WORDS]
    got = await tb.infer(infer_in, n)
    want = _words("infer_out.bin")
    assert got[:-1].tolist() == want[: n * C.RESULT_WORDS].tolist(), "result words differ from the vectors"
    assert await tb.read(C.REG_IMAGES_DONE) == n
    tb.log.info("%d images bit-exact with the golden model", n)


@cocotb.test()
@cocotb.parametrize(pauses=[False, True])
async def test_weight_reload(dut, pauses):
    """Two different blobs in turn, each followed by an INFER job; and the first again."""
    tb = await _started(dut, pauses)
    images = pack_images(np.fromfile(_vectors() / "images.bin", dtype=np.uint8)[: 3 * C.IMAGE_BYTES])
    for seed in (11, 12):
        q = blob.random_model(seed)
        await tb.load(_blob_words(q))
        assert await tb.read(C.REG_WEIGHTS_CRC) == blob.crc_word(q)
        await tb.infer(images, 3)
    await tb.load(_words("load_in.bin"))
    await tb.infer(images[: 2 * C.IMAGE_WORDS], 2)


# --- malformed jobs -------------------------------------------------------------


def _corrupt(words: np.ndarray, index: int, value: int) -> np.ndarray:
    w = words.copy()
    w[index] = value
    return w


def _bad_jobs(blob_words: np.ndarray, image_words: np.ndarray):
    """(name, command, count, input words, error) of every malformed job of the contract, section 6."""
    img2 = image_words[: 2 * C.IMAGE_WORDS]
    crc = int(blob_words[C.CRC_WORD_INDEX])
    load = C.CMD_LOAD_WEIGHTS
    return [
        ("bad command 0", 0, 1, img2[:7], C.ERR_BAD_COMMAND),
        ("bad command 3", 3, 1, blob_words[:9], C.ERR_BAD_COMMAND),
        ("bad count 0", C.CMD_INFER, 0, img2, C.ERR_BAD_COUNT),
        ("bad count 65536", C.CMD_INFER, C.MAX_COUNT + 1, img2, C.ERR_BAD_COUNT),
        ("bad magic", load, 0, _corrupt(blob_words, 0, 0x12345678), C.ERR_BAD_MAGIC),
        ("bad magic, also early", load, 0, _corrupt(blob_words, 0, 0)[:100], C.ERR_BAD_MAGIC),
        ("bad version", load, 0, _corrupt(blob_words, 1, 2), C.ERR_BAD_VERSION),
        ("bad length", load, 0, _corrupt(blob_words, 2, C.BLOB_WORDS - 1), C.ERR_BAD_LENGTH),
        ("bad shift", load, 0, _corrupt(blob_words, 3, int(blob_words[3]) | 0x80), C.ERR_BAD_SHIFT),
        ("bad crc", load, 0, _corrupt(blob_words, C.CRC_WORD_INDEX, crc ^ 1), C.ERR_BAD_CRC),
        ("bad payload", load, 0, _corrupt(blob_words, 5000, int(blob_words[5000]) ^ 0x100), C.ERR_BAD_CRC),
        ("load early tlast", load, 0, blob_words[:-1], C.ERR_EARLY_TLAST),
        ("load header only", load, 0, blob_words[:2], C.ERR_EARLY_TLAST),
        ("load late tlast", load, 0, np.append(blob_words, [1, 2, 3]), C.ERR_LATE_TLAST),
        ("bad crc, also late", load, 0, np.append(_corrupt(blob_words, C.CRC_WORD_INDEX, crc ^ 1), [7]),
         C.ERR_BAD_CRC),
        ("infer early tlast mid-image", C.CMD_INFER, 3, image_words[: C.IMAGE_WORDS + 50], C.ERR_EARLY_TLAST),
        ("infer early tlast at an image end", C.CMD_INFER, 3, img2, C.ERR_EARLY_TLAST),
        ("infer early tlast first word", C.CMD_INFER, 2, img2[:1], C.ERR_EARLY_TLAST),
        ("infer late tlast", C.CMD_INFER, 1, img2[: C.IMAGE_WORDS + 5], C.ERR_LATE_TLAST),
    ]


@cocotb.test()
@cocotb.parametrize(pauses=[False, True])
async def test_bad_jobs(dut, pauses):
    """Every malformed job ends with TLAST and its error code, and the next job works."""
    tb = await _started(dut, pauses)
    blob_words = _words("load_in.bin")
    images = _words("infer_in.bin")[: 2 * C.IMAGE_WORDS]
    # INFER before any weights (right after reset): NO_WEIGHTS.
    out = await tb.infer(images, 2)
    assert C.parse_trailer(int(out[-1])) == (C.ERR_NO_WEIGHTS, 0)
    for name, command, count, words, error in _bad_jobs(blob_words, images):
        if tb.model.weights is None:
            await tb.load(blob_words)
        out = await tb.job(command, words, count)
        err, done = C.parse_trailer(int(out[-1]))
        tb.log.info("%-34s -> %s, %d images", name, C.error_name(err), done)
        assert err == error, f"{name}: {C.error_name(err)}, expected {C.error_name(error)}"
        if tb.model.weights is None:
            out = await tb.infer(images[: C.IMAGE_WORDS], 1)  # refused cleanly: NO_WEIGHTS
            assert C.parse_trailer(int(out[-1]))[0] == C.ERR_NO_WEIGHTS
            await tb.load(blob_words)
        await tb.infer(images[: C.IMAGE_WORDS], 1)  # the next job works


# --- reset, registers, interrupt -------------------------------------------------


@cocotb.test()
@cocotb.parametrize(pauses=[False, True])
async def test_reset_mid_job(dut, pauses):
    """ap_rst_n during a load and during an inference: back to power-on, next jobs work."""
    tb = await _started(dut, pauses)
    blob_words = _words("load_in.bin")
    images = _words("infer_in.bin")[: 3 * C.IMAGE_WORDS]
    for command, words, count in ((C.CMD_LOAD_WEIGHTS, blob_words, 0), (C.CMD_INFER, images, 3)):
        if command == C.CMD_INFER:
            await tb.load(blob_words)
        await tb.write(C.REG_COMMAND, command)
        await tb.write(C.REG_COUNT, count)
        await tb.axil.write_dword(C.REG_CTRL, C.CTRL_START)
        await tb.source.send(AxiStreamFrame(words[: len(words) // 2].astype("<u4").tobytes()))
        await tb.source.wait()
        await ClockCycles(dut.ap_clk, 3000)  # mid-computation for INFER
        await tb.reset()
        tb.source.clear()
        tb.sink.clear()
        await tb.check_registers()  # idle, STATUS 0, WEIGHTS_CRC 0 (weights lost)
        await tb.read(C.REG_COMMAND)
        out = await tb.infer(images, 3)
        assert C.parse_trailer(int(out[-1]))[0] == C.ERR_NO_WEIGHTS
        await tb.load(blob_words)
        await tb.infer(images, 3)


@cocotb.test()
@cocotb.parametrize(pauses=[False, True])
async def test_registers(dut, pauses):
    """Register reads and writes: arguments read back, read-only and unlisted offsets, ap_ctrl_hs bits.

    Every offset touched is below 2**ADDR_WIDTH, the port Vitis HLS generates
    for the contract's map, so the test runs unchanged on the HLS export.
    """
    tb = await _started(dut, pauses)
    for offset in range(0, 1 << C.ADDR_WIDTH, 4):
        await tb.read(offset)  # power-on values, ap_vld words included
    await tb.write(C.REG_COMMAND, 0xDEADBEEF)
    await tb.write(C.REG_COUNT, 0x12345)
    # Read-only, or unlisted (a reserved word after COMMAND, an unused word of STATUS's
    # range, one past the map's last register, the last word of the port): ignored.
    for offset in (*C.REG_OUTPUTS, 0x14, 0x28, C.REG_LAST + 4, (1 << C.ADDR_WIDTH) - 4):
        await tb.write(offset, 0xFFFFFFFF)
    for offset in range(0, 1 << C.ADDR_WIDTH, 4):
        await tb.read(offset)
    await tb.write(C.REG_CTRL, C.CTRL_AUTO_RESTART)  # auto_restart is read/write; no job starts
    await tb.read(C.REG_CTRL)
    await tb.write(C.REG_CTRL, 0)
    await tb.read(C.REG_CTRL)
    # A job: ap_start reads 1 and ap_idle 0 while it runs.
    await tb.write(C.REG_COMMAND, C.CMD_LOAD_WEIGHTS)
    await tb.axil.write_dword(C.REG_CTRL, C.CTRL_START)
    ctrl = await tb.axil.read_dword(C.REG_CTRL)
    assert ctrl & (C.CTRL_START | C.CTRL_IDLE) == C.CTRL_START, f"CTRL {ctrl:#x} while a job runs"
    tb.model.write(C.REG_CTRL, C.CTRL_START)
    words = _words("load_in.bin")
    want = tb.model.stream(words)
    await tb.source.send(AxiStreamFrame(words.tobytes()))
    frame = await with_timeout(tb.sink.recv(), LOAD_CYCLES_LIMIT * 2 * CLOCK_NS, "ns")
    assert np.frombuffer(bytes(frame.tdata), "<u4").tolist() == want.tolist()
    # After the job: done, ready, idle; reading CTRL clears done and ready; each
    # output's ap_vld reads 1 once.
    vld = C.VLD_OFFSET
    for offset in (C.REG_CTRL, C.REG_CTRL, C.REG_STATUS + vld, C.REG_STATUS + vld, C.REG_WEIGHTS_CRC,
                   C.REG_WEIGHTS_CRC + vld, C.REG_IMAGES_DONE + vld, C.REG_IMAGES_DONE + vld):
        await tb.read(offset)
    images = _words("infer_in.bin")[: 2 * C.IMAGE_WORDS]
    await tb.infer(images, 2)
    assert await tb.read(C.REG_IMAGES_DONE) == 2


@cocotb.test()
@cocotb.parametrize(pauses=[False, True])
async def test_interrupt(dut, pauses):
    """interrupt = GIE & (ISR[0] | ISR[1]); ISR bits set by ap_done/ap_ready where IER enables them."""
    tb = await _started(dut, pauses)
    blob_words = _words("load_in.bin")

    async def check_pin():
        # The pin is a register of GIE & (ISR[0] | ISR[1]) in Vitis HLS: one cycle behind.
        await ClockCycles(dut.ap_clk, 2)
        assert int(dut.interrupt.value) == int(tb.model.interrupt), "interrupt pin"
        await tb.read(C.REG_CTRL)  # bit 9 reads the pin

    for gie, ier in ((0, 3), (1, 0), (1, 1), (1, 2), (1, 3)):
        await tb.write(C.REG_GIE, gie)
        await tb.write(C.REG_IER, ier)
        await tb.job(7, [1, 2, 3])  # a refused job is still a job: done and ready rise
        await tb.read(C.REG_ISR)
        await check_pin()
        await tb.write(C.REG_ISR, C.ISR_DONE)  # toggle-on-write clears ...
        await tb.read(C.REG_ISR)
        await check_pin()
        await tb.write(C.REG_ISR, C.ISR_DONE | C.ISR_READY)  # ... and sets
        await tb.read(C.REG_ISR)
        await check_pin()
        await tb.write(C.REG_ISR, await tb.read(C.REG_ISR))
        await check_pin()
    await tb.load(blob_words)
    await tb.read(C.REG_ISR)
    await check_pin()


async def _refused_job_frame(tb: TB, words) -> None:
    """Send one frame of a refused job and check its output (the trailer) against the model."""
    want = tb.model.stream(words)
    await tb.source.send(AxiStreamFrame(np.asarray(words, "<u4").tobytes()))
    frame = await with_timeout(tb.sink.recv(), IMAGE_CYCLES_LIMIT * CLOCK_NS, "ns")
    assert np.frombuffer(bytes(frame.tdata), "<u4").tolist() == want.tolist()


@cocotb.test()
async def test_auto_restart(dut):
    """CTRL bit 7: each job's end starts the next at once; ap_done/ap_ready only after it is cleared."""
    tb = await _started(dut)
    await tb.write(C.REG_IER, C.ISR_DONE)
    await tb.write(C.REG_COMMAND, 7)  # refused jobs: each drains its frame and sends the trailer
    await tb.write(C.REG_CTRL, C.CTRL_START | C.CTRL_AUTO_RESTART)
    for words in ([1, 2, 3], [4]):
        await _refused_job_frame(tb, words)
    for offset in (C.REG_CTRL, C.REG_ISR, C.REG_STATUS + C.VLD_OFFSET):
        await tb.read(offset)  # running again, no ap_done; ISR and ap_vld saw the jobs end
    await tb.write(C.REG_CTRL, 0)  # clears auto_restart; the running job goes on
    await tb.read(C.REG_CTRL)
    await _refused_job_frame(tb, [5, 6])
    await tb.read(C.REG_CTRL)  # done, idle, ready


@cocotb.test()
async def test_input_while_idle(dut):
    """Words sent before ap_start: at most two enter the IP, none is used, the next job takes them in order.

    Contract section 4: Vitis HLS's default register slice on in_r holds up to
    two words while the IP is idle (in_r_TREADY high until it is full); the
    RTL keeps in_r_TREADY low. Both behaviours pass, nothing else does.
    """
    tb = await _started(dut)
    taken = [0]

    async def count_handshakes():
        while True:
            await RisingEdge(dut.ap_clk)
            taken[0] += int(dut.in_r_TVALID.value) & int(dut.in_r_TREADY.value)

    watcher = cocotb.start_soon(count_handshakes())
    words = np.arange(1, 9, dtype=np.uint32)
    assert tb.model.stream(words).size == 0  # no job: the model keeps them waiting
    await tb.source.send(AxiStreamFrame(words.astype("<u4").tobytes()))
    await ClockCycles(dut.ap_clk, 100)
    watcher.cancel()
    assert taken[0] <= 2, f"the idle IP took {taken[0]} input words; the contract allows at most 2"
    assert tb.sink.empty(), "the idle IP sent output"
    await tb.write(C.REG_COMMAND, 7)
    await tb.write(C.REG_CTRL, C.CTRL_START)
    want = tb.model.stream()
    frame = await with_timeout(tb.sink.recv(), IMAGE_CYCLES_LIMIT * CLOCK_NS, "ns")
    assert np.frombuffer(bytes(frame.tdata), "<u4").tolist() == want.tolist()
    await tb.check_registers()
    # The job took exactly that frame: the next one works on fresh input.
    await tb.infer(_words("infer_in.bin")[: C.IMAGE_WORDS], 1)


# --- per-layer dumps of the RTL ----------------------------------------------------


class LayerTap:
    """Watches the RTL's layer writer (rtl/lenet_layer_writer.v): every conv and
    fc result it receives (all lanes, after requantization) and every pooled
    row it writes. Only the hand-written RTL has these signals."""

    def __init__(self, dut):
        self.w = dut.engine_inst.writer_inst
        self.lanes = len(self.w.q) // 8
        self.results: list[tuple[int, int]] = []  # (layer, q of all lanes)
        self.rows = {1: [], 2: []}  # pool1 / pool2 rows written: (row, data)
        cocotb.start_soon(self._run(dut.ap_clk))

    async def _run(self, clk):
        w = self.w
        while True:
            await RisingEdge(clk)
            if w.valid.value and w.last.value:
                self.results.append((int(w.layer.value), int(w.q.value)))
            if w.p1_wr_en.value:
                self.rows[1].append((int(w.p1_wr_row.value), int(w.p1_wr_data.value)))
            if w.p2_wr_en.value:
                self.rows[2].append((int(w.p2_wr_row.value), int(w.p2_wr_data.value)))

    def layers(self, n: int, image_words: np.ndarray, out_words: np.ndarray) -> dict[str, np.ndarray]:
        """The dump of ``n`` images, rebuilt from the order the sequencer visits outputs in."""
        lanes = self.lanes

        def q_bytes(v: int) -> np.ndarray:
            return np.frombuffer(v.to_bytes(lanes, "little"), np.uint8)

        by_layer = {k: [q_bytes(v) for layer, v in self.results if layer == k] for k in range(4)}
        layout = BankLayout(lanes)
        convs = []
        for code, layer in enumerate(C.LAYERS[:2]):
            # the sequencer's order over the steps, positions across the lanes
            out, side = layer.weight_shape[0], layout.pooled_side(layer)
            positions, wins = layout.positions(layer), layout.windows(layer)
            order = layout.pool_order(layer)
            conv = np.zeros((n, out, 2 * side, 2 * side), np.uint8)
            for k, q in enumerate(by_layer[code][: n * len(order)]):
                i, j = divmod(k, len(order))
                py, px, dy, dx = order[j]
                for p in range(positions):
                    w, pdy, pdx = layout.position(p)
                    conv[i, :, 2 * py + dy + pdy, 2 * (px * wins + w) + dx + pdx] = q[p * out:(p + 1) * out]
            convs.append(conv)
        c1, c2 = convs
        pools = {}
        for k, (channels, side) in {1: (6, 14), 2: (16, 5)}.items():
            p = np.zeros((n, channels, side, side), np.uint8)
            rows = self.rows[k]
            for j, (row, data) in enumerate(rows[: n * side]):
                b = np.frombuffer(data.to_bytes(channels * side, "little"), np.uint8)
                p[j // side, :, row, :] = b.reshape(channels, side)
            pools[k] = p
        fc = {}
        for k, name, size in ((2, "fc1", 120), (3, "fc2", 84)):
            passes = -(-size // lanes)
            q = np.array(by_layer[k][: n * passes]).reshape(n, passes * lanes)
            fc[name] = q[:, :size]
        results = out_words[: n * C.RESULT_WORDS].reshape(n, C.RESULT_WORDS)
        images = np.frombuffer(image_words[: n * C.IMAGE_WORDS].astype("<u4").tobytes(), np.uint8)
        padded = np.pad(images.reshape(n, 28, 28), ((0, 0), (C.PAD, C.PAD), (C.PAD, C.PAD)))[:, None]
        return {"input": padded, "conv1": c1, "pool1": pools[1], "conv2": c2, "pool2": pools[2],
                "fc1": fc["fc1"], "fc2": fc["fc2"], "fc3": results[:, 1:].view(np.int32),
                "class": results[:, 0].astype(np.uint8)}


@cocotb.test(skip=os.environ.get("LENET_IP") == "hls")
async def test_layers(dut):
    """Every layer of the RTL, as its layer writer sees it, equals the golden per-layer dump."""
    tb = await _started(dut)
    await tb.load(_words("load_in.bin"))
    doc = json.loads((_vectors() / "vectors.json").read_text())
    n = min(int(os.environ.get("LENET_LAYER_IMAGES", 3)), doc["count"])
    tap = LayerTap(dut)
    images = _words("infer_in.bin")[: n * C.IMAGE_WORDS]
    out = await tb.infer(images, n)
    got = tap.layers(n, images, out)
    want, fracs, _ = dumps.read(_vectors() / "layers")
    for name, a in got.items():
        b = want[name][:n]
        bad = np.argwhere(a != b)
        assert not bad.size, f"{name}: {len(bad)} values differ from the golden model, first at {tuple(bad[0])}"
    if os.environ.get("LENET_RTL_DUMP"):
        dumps.write(os.environ["LENET_RTL_DUMP"], got, fracs, source="rtl (cocotb, tests/cocotb_lenet.py)")


# --- performance (make sim-bench) ---------------------------------------------------


@cocotb.test(skip=not os.environ.get("LENET_BENCH_OUT"))
async def test_bench(dut):
    """Cycles: the load, one image alone (latency), and a batch back to back (steady state)."""
    tb = await _started(dut)
    clk = dut.ap_clk
    cycle = [0]

    async def count():
        while True:
            await RisingEdge(clk)
            cycle[0] += 1

    cocotb.start_soon(count())
    first_out = []

    async def watch_outputs():
        # cycle of the first word of each image's result (11 words per image)
        n = 0
        while True:
            await RisingEdge(clk)
            if dut.out_r_TVALID.value and dut.out_r_TREADY.value:
                if n % C.RESULT_WORDS == 0 and not dut.out_r_TLAST.value:
                    first_out.append(cycle[0])
                n = 0 if dut.out_r_TLAST.value else n + 1

    cocotb.start_soon(watch_outputs())
    steps = {}  # the hand-written RTL's sequencer: steps per layer of the image timed alone

    async def watch_steps(seq):
        while True:
            await RisingEdge(clk)
            if seq.step_valid.value:
                name = C.LAYERS[int(seq.step_layer.value)].name
                steps[name] = steps.get(name, 0) + 1

    watcher = None
    if os.environ.get("LENET_IP") != "hls":
        watcher = cocotb.start_soon(watch_steps(dut.engine_inst.sequencer_inst))
    t0 = cycle[0]
    await tb.load(_words("load_in.bin"))
    load_cycles = cycle[0] - t0
    batch = int(os.environ.get("LENET_BENCH_IMAGES", "24"))
    images = _words("infer_in.bin")
    count_avail = images.size // C.IMAGE_WORDS
    images = np.resize(images, batch * C.IMAGE_WORDS) if batch > count_avail else images[: batch * C.IMAGE_WORDS]
    await tb.write(C.REG_COMMAND, C.CMD_INFER)
    await tb.write(C.REG_COUNT, 1)
    t0 = cycle[0]
    await tb.axil.write_dword(C.REG_CTRL, C.CTRL_START)
    await tb.source.send(AxiStreamFrame(images[: C.IMAGE_WORDS].tobytes()))
    await with_timeout(tb.sink.recv(), (LOAD_CYCLES_LIMIT + IMAGE_CYCLES_LIMIT) * CLOCK_NS, "ns")
    latency = cycle[0] - t0
    if watcher:
        watcher.cancel()
    first_out.clear()
    await tb.write(C.REG_COUNT, batch)
    t0 = cycle[0]
    await tb.axil.write_dword(C.REG_CTRL, C.CTRL_START)
    await tb.source.send(AxiStreamFrame(images.tobytes()))
    await with_timeout(tb.sink.recv(), (LOAD_CYCLES_LIMIT + IMAGE_CYCLES_LIMIT * batch) * CLOCK_NS, "ns")
    total = cycle[0] - t0
    gaps = np.diff(first_out[len(first_out) // 4:])
    result = {"load_cycles": load_cycles, "latency_cycles": latency, "batch": batch,
              "batch_cycles": total, "steady_cycles_per_image": float(np.mean(gaps)),
              "steady_min": int(gaps.min()), "steady_max": int(gaps.max())}
    if steps:
        result |= {"steps": steps, "lanes": len(dut.engine_inst.writer_inst.q) // 8}
    Path(os.environ["LENET_BENCH_OUT"]).write_text(json.dumps(result, indent=1) + "\n")
    tb.log.info("bench: %s", result)
