"""The driver through the real pynq classes, on the Python device model (the seam's backend (a)).

Every test builds the board's stack: a .hwh, pynq's Overlay parsing it,
``LeNetIP`` bound by VLNV, ``pynq.lib.dma.DMA``, ``pynq.allocate``; only the
``Device`` underneath is the seam. Results are compared with the golden
model, integer for integer.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path

import numpy as np
import pytest
from pynq.lib.dma import DMA

from lenet_pynq import blob, golden
from lenet_pynq import contract as C
from lenet_pynq.errors import LenetError
from lenet_pynq.host import axi_dma as R
from lenet_pynq.host.driver import LeNetIP
from lenet_pynq.host.errors import (
    LenetConfigError,
    LenetDmaError,
    LenetJobError,
    LenetTimeoutError,
    LenetWeightsError,
)
from lenet_pynq.images import ImageFormatError
from lenet_pynq.ip_model import DeviceModel
from lenet_pynq.sim.model_overlay import ModelStream, model_seam, open_model_overlay

Q = blob.random_model(seed=3)
BLOB = blob.encode(Q)


def images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


@pytest.fixture
def overlay(tmp_path):
    ol = open_model_overlay(tmp_path)
    ol.lenet.load_weights(BLOB)
    return ol


def test_pynq_binds_our_driver_and_its_dma_from_the_hwh(tmp_path):
    ol = open_model_overlay(tmp_path)
    assert isinstance(ol.lenet, LeNetIP) and isinstance(ol.axi_dma_0, DMA)
    assert ol.ip_dict[C.BD_IP_NAME]["type"] == C.VLNV_HLS
    assert ol.lenet.jobs.max_transfer == (1 << 26) - 1
    assert ol.axi_dma_0.sendchannel is not None and ol.axi_dma_0.recvchannel is not None


def test_pynqs_own_parser_finds_the_interrupts_of_the_ip_and_the_dma(tmp_path):
    """pynq 3.1 sees an interrupt only through an axi_intc on IRQ_F2P (pynq/metadata/
    interrupt_controllers_view.py); the parser is the one the board runs (pynq.pl_server.embedded_device)."""
    from pynq.interrupt import Interrupt
    from pynq.metadata.runtime_metadata_parser import RuntimeMetadataParser
    from pynqmetadata.frontends import Metadata

    from lenet_pynq.sim.hwh import write_design

    parser = RuntimeMetadataParser(Metadata(input=str(write_design(tmp_path).with_suffix(".hwh"))))
    assert parser.interrupt_controllers == {"axi_intc_0": {"name": "axi_intc_0", "parent": "", "index": 0,
                                                           "raw_irq": 61}}  # IRQ_F2P[0] is GIC SPI 61
    pins = {pin: (v["controller"], v["index"]) for pin, v in parser.interrupt_pins.items()}
    assert pins[f"{C.BD_IP_NAME}/interrupt"] == ("axi_intc_0", 0)
    assert pins[f"{C.BD_DMA_NAME}/mm2s_introut"] == ("axi_intc_0", 1)
    assert pins[f"{C.BD_DMA_NAME}/s2mm_introut"] == ("axi_intc_0", 2)
    assert set(parser.ip_dict[C.BD_IP_NAME]["interrupts"]) == {"interrupt"}
    assert set(parser.ip_dict[C.BD_DMA_NAME]["interrupts"]) == {"mm2s_introut", "s2mm_introut"}
    # ... and the overlay's drivers get pynq Interrupt objects for them, as on the board.
    ol = open_model_overlay(tmp_path / "overlay")
    assert isinstance(ol.lenet.interrupt, Interrupt)
    assert isinstance(ol.axi_dma_0.mm2s_introut, Interrupt) and isinstance(ol.axi_dma_0.s2mm_introut, Interrupt)


def test_the_default_temporary_design_goes_with_its_overlay():
    ol = open_model_overlay()
    directory = Path(ol.bitfile_name).parent
    assert (directory / "lenet.hwh").is_file()
    del ol
    gc.collect()
    assert not directory.exists()  # `lenet bench --backend model` left one /tmp/lenet_seam_* per run


def test_the_rtl_packaging_binds_the_same_driver(tmp_path):
    ol = open_model_overlay(tmp_path, ip_vlnv=C.VLNV_RTL)
    assert isinstance(ol.lenet, LeNetIP)


def test_load_weights_reads_back_the_blob_crc(overlay):
    crc = blob.crc_word(Q)
    assert overlay.lenet.loaded_crc == crc
    assert overlay.lenet.weights_crc == crc
    assert overlay.lenet.status == C.ERR_OK


def test_classify_matches_the_golden_model_bit_for_bit(overlay):
    x = images(2300, seed=1)
    r = overlay.lenet.classify(x, batch_size=1000)
    ref = golden.run(Q, x)
    np.testing.assert_array_equal(r.logits, ref)
    np.testing.assert_array_equal(r.classes, golden.classify(ref))
    assert r.batch_sizes == [1000, 1000, 300]
    assert overlay.lenet.images_done == 300


def test_flat_images_and_a_single_job(overlay):
    x = images(5, seed=2)
    r = overlay.lenet.classify(x.reshape(5, 784))
    np.testing.assert_array_equal(r.logits, golden.run(Q, x))
    assert r.batch_sizes == [5]


def test_buffers_are_allocated_once_and_reused(overlay):
    overlay.lenet.classify(images(50), batch_size=20)
    in_buf, out_buf = overlay.lenet.jobs.in_buf, overlay.lenet.jobs.out_buf
    n_alloc = len(overlay.device.memory._allocations)
    overlay.lenet.classify(images(60, seed=4), batch_size=20)
    assert overlay.lenet.jobs.in_buf is in_buf and overlay.lenet.jobs.out_buf is out_buf
    assert len(overlay.device.memory._allocations) == n_alloc


def test_a_narrow_dma_splits_runs_into_transfers_it_can_make(tmp_path):
    # 2**17 - 1 bytes per transfer: 167 images of 784 bytes, whatever the batch asked for
    ol = open_model_overlay(tmp_path, dma={"c_sg_length_width": "17"})
    ol.lenet.load_weights(BLOB)
    x = images(400, seed=5)
    r = ol.lenet.classify(x, batch_size=100000)
    assert r.batch_sizes == [167, 167, 66]
    np.testing.assert_array_equal(r.logits, golden.run(Q, x))


def test_jobs_never_exceed_max_count(overlay):
    assert overlay.lenet._images_per_job(10**9) == C.MAX_COUNT


def test_throughput_times_each_job_repeatedly(overlay):
    r = overlay.lenet.throughput(images(30), batch_size=10, repeats=3)
    assert len(r.batch_seconds) == 9 and sum(r.batch_sizes) == 90
    assert r.images_per_second > 0


# --- what the driver refuses before touching anything --------------------------------

@pytest.mark.parametrize("bad, words", [
    (np.zeros((3, 28, 28), np.float32), "float32, expected uint8"),
    (np.zeros((3, 27, 27), np.uint8), "expected (N, 28, 28) or (N, 784)"),
    (np.zeros((0, 784), np.uint8), "N = 0"),
])
def test_wrong_images_are_refused_before_any_register_access(overlay, bad, words):
    before = overlay.device.accesses
    with pytest.raises(ImageFormatError, match=None) as e:
        overlay.lenet.classify(bad)
    assert words in str(e.value)
    assert overlay.device.accesses == before


@pytest.mark.parametrize("dma, words", [
    ({"c_include_sg": "1"}, "simple mode"),
    ({"c_sg_length_width": "14"}, "the default 14 allows 16 KB"),
    ({"c_m_axis_mm2s_tdata_width": "64"}, "32 bits wide"),
])
def test_an_impossible_dma_is_refused_before_touching_hardware(tmp_path, dma, words):
    seam = model_seam()
    with pytest.raises(LenetConfigError, match="axi_dma_0 cannot be used") as e:
        open_model_overlay(tmp_path, device=seam, dma=dma)
    assert words in str(e.value)
    assert seam.accesses == 0


def test_a_foreign_ip_in_the_hwh_is_refused(tmp_path):
    seam = model_seam()
    with pytest.raises(LenetConfigError, match="belongs to another design"):
        open_model_overlay(tmp_path, device=seam, ip_vlnv="xilinx.com:hls:resize_accel:1.0")
    assert seam.accesses == 0


def test_a_missing_bitstream_says_how_to_build_it(tmp_path):
    from lenet_pynq.overlay import LeNetOverlay

    with pytest.raises(LenetError, match="make bitstream"):
        LeNetOverlay(tmp_path / "lenet.bit", download=False, device=model_seam())


def _other_build(d: Path) -> Path:
    """A second build of the design (another DMA length width, another bitstream): its .bit, .hwh and record."""
    from lenet_pynq import build_record
    from lenet_pynq.sim.hwh import write_design

    bit = write_design(d, dma={"c_sg_length_width": "23"})
    bit.write_bytes(b"another bitstream\n")
    record = json.loads(bit.with_suffix(".json").read_text())
    build_record.write_record(bit.with_suffix(".json"), {**record, "bit_sha256": build_record.sha256(bit)})
    return bit


@pytest.mark.parametrize("swap, words", [
    ("hwh", r"lenet\.hwh does not match .*lenet\.json: its SHA-256 is \w{12}\.\.\., the record's \w{12}"),
    ("bit", r"lenet\.bit does not match .*lenet\.json"),
    ("json", r"lenet\.bit does not match .*lenet\.json"),
], ids=["hwh-of-another-build", "bit-of-another-build", "record-of-another-build"])
def test_a_pair_its_build_record_does_not_match_is_refused(tmp_path, swap, words):
    """The classic "works with the prebuilt, hangs with mine": one file of the three copied from another build."""
    import shutil

    from lenet_pynq.overlay import LeNetOverlay
    from lenet_pynq.sim.hwh import write_design

    bit = write_design(tmp_path / "mine")
    other = _other_build(tmp_path / "other")
    shutil.copy(other.with_suffix(f".{swap}"), bit.with_suffix(f".{swap}"))
    seam = model_seam()
    with pytest.raises(LenetError, match=words) as e:
        LeNetOverlay(bit, download=False, device=seam)
    assert "\n" not in str(e.value) and "together from one `make bitstream`" in str(e.value)
    assert seam.accesses == 0


def test_a_bitstream_without_its_build_record_or_of_another_contract_is_refused(tmp_path):
    from lenet_pynq.overlay import LeNetOverlay
    from lenet_pynq.sim.hwh import write_design

    bit = write_design(tmp_path)
    record = json.loads(bit.with_suffix(".json").read_text())
    bit.with_suffix(".json").write_text(json.dumps({**record, "contract_version": C.CONTRACT_VERSION + 1}))
    with pytest.raises(LenetError, match=f"implements contract version {C.CONTRACT_VERSION + 1}.*rebuild it"):
        LeNetOverlay(bit, download=False, device=model_seam())
    bit.with_suffix(".json").write_text("{not json")
    with pytest.raises(LenetError, match="lenet.json is not a build record"):
        LeNetOverlay(bit, download=False, device=model_seam())
    bit.with_suffix(".json").unlink()
    with pytest.raises(LenetError, match="lenet.json not found: a bitstream needs its build record beside it"):
        LeNetOverlay(bit, download=False, device=model_seam())


def test_the_design_is_checked_before_the_bitstream_is_downloaded(tmp_path):
    from lenet_pynq.overlay import LeNetOverlay
    from lenet_pynq.sim.hwh import write_design

    class CountingSeam(type(model_seam())):
        downloads = 0

        def download(self, bitstream, parser=None):
            CountingSeam.downloads += 1

    model = DeviceModel()
    seam = CountingSeam(model, ModelStream(model))
    bit = write_design(tmp_path, dma={"c_sg_length_width": "14"})
    with pytest.raises(LenetConfigError):
        LeNetOverlay(bit, download=True, device=seam)
    assert CountingSeam.downloads == 0 and seam.accesses == 0


def test_classify_before_weights_names_the_fix(tmp_path):
    ol = open_model_overlay(tmp_path)
    with pytest.raises(LenetError, match=r"call load_weights"):
        ol.lenet.classify(images(1))


# --- wrong weights ----------------------------------------------------------------------

def test_a_truncated_blob_is_refused_without_sending_it(overlay, tmp_path):
    path = tmp_path / "short.bin"
    path.write_bytes(BLOB[:-8])
    before = overlay.device.accesses
    with pytest.raises(LenetError, match=f"{C.BLOB_BYTES} bytes"):
        overlay.lenet.load_weights(path)
    assert overlay.device.accesses == before
    for unreadable, message in ((tmp_path / "missing.bin", "no such weights blob"), (tmp_path, "cannot read")):
        with pytest.raises(LenetError, match=message):
            overlay.lenet.load_weights(unreadable)
    assert overlay.device.accesses == before


@pytest.mark.parametrize("word, value, code", [
    (0, 0x12345678, C.ERR_BAD_MAGIC),
    (2, 15000, C.ERR_BAD_LENGTH),
    (C.CRC_WORD_INDEX - 1, 0xDEADBEEF, C.ERR_BAD_CRC),  # a payload byte changed, CRC word not
])
def test_a_corrupted_blob_is_reported_by_the_ip(overlay, word, value, code):
    data = np.frombuffer(BLOB, "<u4").copy()
    data[word] = value
    with pytest.raises(LenetJobError) as e:
        overlay.lenet.load_weights(data.tobytes())
    assert e.value.code == code and C.error_name(code) in str(e.value)
    assert "lenet quantize" in str(e.value)
    # the IP invalidated its weights; the driver knows it, and a good blob loads again
    assert overlay.lenet.weights_crc == 0 and overlay.lenet.loaded_crc is None
    assert overlay.lenet.load_weights(BLOB) == blob.crc_word(Q)


class CrcLiar:
    """IP registers that read a wrong WEIGHTS_CRC: the driver must not trust the trailer alone."""

    def __init__(self, model):
        self.model = model

    def read(self, offset):
        value = self.model.read(offset)
        return value ^ 1 if offset == C.REG_WEIGHTS_CRC else value

    def write(self, offset, value):
        self.model.write(offset, value)


def test_a_crc_that_does_not_read_back_is_an_error(tmp_path):
    from lenet_pynq.sim.seam import SeamDevice

    model = DeviceModel()
    seam = SeamDevice(CrcLiar(model), ModelStream(model))
    ol = open_model_overlay(tmp_path, device=seam)
    with pytest.raises(LenetWeightsError, match="WEIGHTS_CRC reads"):
        ol.lenet.load_weights(BLOB)


# --- IP error codes and DMA failures ---------------------------------------------------------

def test_an_ip_error_code_becomes_an_exception_naming_it(overlay):
    overlay.device.registers.reset()  # ap_rst_n: the IP loses its weights behind the driver's back
    with pytest.raises(LenetJobError) as e:
        overlay.lenet.classify(images(3))
    assert e.value.code == C.ERR_NO_WEIGHTS and e.value.images_done == 0
    assert "NO_WEIGHTS: INFER before a valid weights blob was loaded" in str(e.value)
    overlay.lenet.load_weights(BLOB)  # the next job works
    assert len(overlay.lenet.classify(images(3)).classes) == 3


class NoTlast(ModelStream):
    """An IP whose output never carries TLAST."""

    def receive(self):
        words, _ = super().receive()
        return words, False


def test_a_missing_tlast_times_out_with_the_dma_status_decoded(tmp_path):
    from lenet_pynq.sim.seam import SeamDevice

    model = DeviceModel()
    ol = open_model_overlay(tmp_path, device=SeamDevice(model, NoTlast(model)))
    ol.lenet.timeout_s, ol.lenet.timeout_per_image_s = 0.3, 0.0
    with pytest.raises(LenetTimeoutError) as e:
        ol.lenet.load_weights(BLOB)
    msg = str(e.value)
    assert "S2MM transfer not finished" in msg and "its output lacks TLAST" in msg
    assert "short job" in msg and "c_sg_length_width" in msg  # the probable causes, named
    assert "S2MM_DMASR 0x00000000 (running)" in msg and "MM2S_DMASR 0x00000002 (Idle)" in msg
    # the DMA was reset and restarted: channels running again, nothing in flight
    assert ol.axi_dma_0.recvchannel.running and ol.axi_dma_0.sendchannel.running


class TooLong(ModelStream):
    """An IP that sends more words than the job's output can hold."""

    def receive(self):
        words, last = super().receive()
        if last:
            words = np.concatenate([np.zeros(5, np.uint32), words])
        return words, last


def test_an_output_longer_than_the_buffer_is_a_dma_error(tmp_path):
    from lenet_pynq.sim.seam import SeamDevice

    model = DeviceModel()
    ol = open_model_overlay(tmp_path, device=SeamDevice(model, TooLong(model)))
    with pytest.raises(LenetDmaError, match=r"S2MM channel stopped with 0x00004011 \(Halted, DMAIntErr"):
        ol.lenet.load_weights(BLOB)


def test_dma_model_decodes_and_clears_status_bits():
    assert R.decode_status(R.SR_IDLE | R.SR_IOC_IRQ) == "0x00001002 (Idle, IOC_Irq)"
    assert "DMADecErr (decode error" in R.decode_status(R.SR_DMA_DEC_ERR)
    from lenet_pynq.sim.dma_model import AxiDmaModel
    from lenet_pynq.sim.memory import DeviceMemory

    dma = AxiDmaModel(DeviceMemory(), ModelStream(DeviceModel()))
    assert dma.read(R.MM2S.DMASR) == R.SR_HALTED
    dma.write(R.MM2S.DMACR, R.CR_RS)
    dma.write(R.MM2S.ADDR, 0x0BAD_0000)
    dma.write(R.MM2S.LENGTH, 64)  # no buffer there
    sr = dma.read(R.MM2S.DMASR)
    assert sr & R.SR_DMA_DEC_ERR and sr & R.SR_HALTED and sr & R.SR_ERR_IRQ
    dma.write(R.MM2S.DMASR, R.SR_ERR_IRQ)
    assert not dma.read(R.MM2S.DMASR) & R.SR_ERR_IRQ


@pytest.mark.parametrize("length", [8, 6, 5])
def test_dma_model_sends_whole_words_and_zero_fills_a_trailing_partial_one(length):
    """MM2S reads LENGTH bytes of DDR at the transfer and streams 32-bit words, little-endian; bytes past
    LENGTH in the last word are zero, not what DDR holds there, and a later write to DDR changes nothing."""
    from lenet_pynq.sim.dma_model import AxiDmaModel
    from lenet_pynq.sim.memory import DeviceMemory

    class Capture:
        def __init__(self):
            self.words = []

        def send(self, words):
            self.words.append(words)

        def sent(self):
            return True

        def receive(self):
            return np.zeros(0, np.uint32), False

    memory, stream = DeviceMemory(), Capture()
    buf = memory.allocate(None, (8,), np.uint8)
    buf[:] = [1, 2, 3, 4, 5, 6, 7, 8]
    memory.flush(0, 0, 8)
    dma = AxiDmaModel(memory, stream)
    dma.write(R.MM2S.DMACR, R.CR_RS)
    dma.write(R.MM2S.ADDR, buf.device_address)
    dma.write(R.MM2S.LENGTH, length)
    memory.write(buf.device_address, np.full(8, 0xFF, np.uint8))
    expected = np.array([1, 2, 3, 4, 5, 6, 7, 8][:length] + [0] * (-length % 4), np.uint8).view("<u4")
    (words,) = stream.words
    assert words.dtype == np.uint32 and words.tolist() == expected.tolist()


def test_the_full_mnist_test_set_gives_the_golden_models_accuracy(tmp_path):
    """All 10,000 test images through the driver, with the blob that ships with the overlay."""
    from lenet_pynq import mnist

    q = blob.load(blob.shipped_path())
    x, labels = mnist.load("test")
    ol = open_model_overlay(tmp_path)
    ol.lenet.load_weights(blob.encode(q))
    r = ol.lenet.classify(x, batch_size=2500)
    ref = golden.run(q, x)
    np.testing.assert_array_equal(r.logits, ref)
    accuracy = (r.classes == labels).mean()
    assert accuracy == (golden.classify(ref) == labels).mean()
    assert accuracy >= 0.99


# Vitis HLS and rtl/ both give the map of contract section 3 seven address bits (its highest
# register is 0x44); six, what an IP built for the old map with outputs 8 bytes apart had, cannot
# reach IMAGES_DONE at 0x40.
@pytest.mark.parametrize("width, ok", [("7", True), ("8", True), ("6", False)])
def test_the_ip_address_width_must_reach_every_register(tmp_path, width, ok):
    if ok:
        assert isinstance(open_model_overlay(tmp_path, ip={"C_S_AXI_CONTROL_ADDR_WIDTH": width}).lenet, LeNetIP)
    else:
        with pytest.raises(LenetConfigError, match="address width 6 is narrower than the 7 bits"):
            open_model_overlay(tmp_path, ip={"C_S_AXI_CONTROL_ADDR_WIDTH": width})


@pytest.mark.filterwarnings("ignore::UserWarning")  # pynq: "No devices found, is the XRT environment sourced?"
def test_off_the_board_lenet_overlay_says_where_it_runs(tmp_path):
    from lenet_pynq.overlay import LeNetOverlay
    from lenet_pynq.sim.hwh import write_design

    with pytest.raises(LenetError, match="pynq found no FPGA .* --backend model"):
        LeNetOverlay(write_design(tmp_path))


# --- only the bytes a job moves cross the cache ----------------------------------------------

class CacheLog:
    """Records every flush and invalidate pynq asks the seam for: (buffer, offset, bytes)."""

    def __init__(self, seam):
        self.calls = []
        for kind in ("flush", "invalidate"):
            original = getattr(seam.memory, kind)

            def hook(bo, offset, nbytes, kind=kind, original=original):
                self.calls.append((kind, bo, offset, nbytes))
                original(bo, offset, nbytes)

            setattr(seam.memory, kind, hook)


def test_a_buffer_slice_keeps_its_physical_address_and_cache_offset(overlay):
    buf = overlay.lenet.jobs.buffers(4096, 16)[0]
    head, tail = buf[:100], buf[96:200]
    assert head.physical_address == buf.physical_address and head.nbytes == 100
    assert tail.physical_address == buf.physical_address + 96 and tail.offset == 96 and tail.bo == buf.bo


def test_after_a_big_job_a_small_one_flushes_and_invalidates_only_its_own_bytes(overlay):
    overlay.lenet.classify(images(2000), batch_size=2000)  # the buffers grow to 2000 images
    log = CacheLog(overlay.device)
    x = images(1, seed=5)
    r = overlay.lenet.classify(x)
    np.testing.assert_array_equal(r.logits, golden.run(Q, x))
    assert overlay.lenet.jobs.in_buf.nbytes == 2000 * C.IMAGE_BYTES  # still the big buffers
    flushes = [c for c in log.calls if c[0] == "flush"]
    invalidates = [c for c in log.calls if c[0] == "invalidate"]
    assert flushes == [("flush", overlay.lenet.jobs.in_buf.bo, 0, C.IMAGE_BYTES)]
    assert invalidates == [("invalidate", overlay.lenet.jobs.out_buf.bo, 0, 4 * (C.RESULT_WORDS + 1))]


# --- every wait keeps its deadline, the DMA's restart included --------------------------------

def test_a_dma_that_never_restarts_after_reset_raises_instead_of_hanging(overlay):
    import threading

    dma = overlay.device.dma
    stuck_write = dma._write_cr

    def never_runs(ch, value):  # a DMA whose channels stay halted: pynq's start() would spin forever
        stuck_write(ch, value & ~R.CR_RS)

    dma._write_cr = never_runs
    overlay.lenet.timeout_s = 0.2
    outcome = []

    def reset():
        try:
            overlay.lenet.reset_dma()
        except LenetTimeoutError as e:
            outcome.append(str(e))

    worker = threading.Thread(target=reset, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "reset_dma hung"
    assert outcome and "MM2S channel stayed halted" in outcome[0] and "Reload the overlay" in outcome[0]


def test_after_a_reset_the_next_job_works(overlay):
    overlay.lenet.reset_dma()
    x = images(3, seed=6)
    np.testing.assert_array_equal(overlay.lenet.classify(x).logits, golden.run(Q, x))


# --- the interrupt wait: pynq's Interrupt interface, optional --------------------------------

def test_the_interrupt_wait_gives_the_same_integers_and_each_job_takes_one_interrupt(overlay):
    from lenet_pynq.sim.seam import SeamInterrupt

    irq = SeamInterrupt(overlay.device)
    overlay.lenet.use_interrupt(irq)
    assert overlay.device.registers.read(C.REG_GIE) == 1 and overlay.device.registers.read(C.REG_IER) == C.ISR_DONE
    x = images(25, seed=7)
    r = overlay.lenet.classify(x, batch_size=10)
    np.testing.assert_array_equal(r.logits, golden.run(Q, x))
    assert irq.waits == 3 and not overlay.device.registers.interrupt  # acknowledged after each job
    overlay.lenet.use_polling()
    assert overlay.lenet.jobs.interrupt is None and overlay.device.registers.read(C.REG_GIE) == 0
    np.testing.assert_array_equal(overlay.lenet.classify(x).logits, golden.run(Q, x))


class SilentInterrupt:
    """pynq's Interrupt interface on a pin that never rises."""

    async def wait(self):
        import asyncio

        await asyncio.Event().wait()


def test_an_interrupt_that_never_comes_keeps_the_deadline(overlay):
    overlay.lenet.use_interrupt(SilentInterrupt())
    overlay.lenet.timeout_s, overlay.lenet.timeout_per_image_s = 0.3, 0.0
    with pytest.raises(LenetTimeoutError, match="no interrupt from lenet_0 before the deadline .* polling wait"):
        overlay.lenet.classify(images(2))


def test_pynqs_own_interrupt_attaches_to_the_ip_pin_through_the_axi_intc(overlay):
    """pynq's Interrupt, reading the seam's .hwh as on the board, finds lenet_0/interrupt behind axi_intc_0."""
    import pynq

    with overlay.device.active():
        overlay.lenet.use_interrupt()
    assert isinstance(overlay.lenet.jobs.interrupt, pynq.Interrupt)
    assert overlay.lenet.jobs.interrupt.parent().name == "axi_intc_0"


def test_an_interrupt_pynq_cannot_attach_is_refused_and_polling_stays(overlay, monkeypatch):
    import pynq

    def no_pin(name):
        raise ValueError(f"No interrupt pin named {name}")  # what pynq 3.1 says for a design without axi_intc

    monkeypatch.setattr(pynq, "Interrupt", no_pin)
    with pytest.raises(LenetConfigError, match=r"cannot wait on the interrupt lenet_0/interrupt .*axi_intc"):
        overlay.lenet.use_interrupt()
    assert overlay.lenet.jobs.interrupt is None
    assert overlay.lenet.classify(images(2)).classes.shape == (2,)
    assert overlay.lenet.jobs.interrupt is None  # still polling
    x = images(2, seed=8)
    np.testing.assert_array_equal(overlay.lenet.classify(x).logits, golden.run(Q, x))


def test_the_seam_parses_the_hwh_with_the_parser_the_board_uses(overlay):
    """pynq/pl_server/embedded_device.py (PYNQ v3.1) builds pynq.metadata's RuntimeMetadataParser from the .hwh."""
    from pynq.metadata.runtime_metadata_parser import RuntimeMetadataParser

    parser = overlay.device.get_bitfile_metadata(overlay.bitfile_name)
    assert type(parser) is RuntimeMetadataParser
    assert parser.ip_dict[C.BD_IP_NAME]["phys_addr"] == overlay.ip_dict[C.BD_IP_NAME]["phys_addr"]
    assert parser.interrupt_pins == overlay.interrupt_pins  # what pynq.Interrupt looks its pins up in
