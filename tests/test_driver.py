"""The driver through the real pynq classes, on the Python device model (the seam's backend (a)).

Every test builds the board's stack: a .hwh, pynq's Overlay parsing it,
``LeNetIP`` bound by VLNV, ``pynq.lib.dma.DMA``, ``pynq.allocate``; only the
``Device`` underneath is the seam. Results are compared with the golden
model, integer for integer.
"""

from __future__ import annotations

import gc
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
    assert "S2MM transfer not finished" in msg and "never ended its output with TLAST" in msg
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
