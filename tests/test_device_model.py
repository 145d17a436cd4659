"""The device model: registers, jobs, every error of contract section 6 and the recovery after it."""

import struct
import zlib

import numpy as np
import pytest

from lenet_pynq import blob, golden
from lenet_pynq import contract as C
from lenet_pynq.ip_model import DeviceModel, pack_images, unpack_images

IDLE, DONE_IDLE_READY = C.CTRL_IDLE, C.CTRL_DONE | C.CTRL_IDLE | C.CTRL_READY


@pytest.fixture(scope="module")
def q():
    return blob.random_model(7)


@pytest.fixture(scope="module")
def blob_words(q):
    return np.frombuffer(blob.encode(q), "<u4").astype(np.uint32)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(4)
    return ((rng.random((5, 28, 28)) < 0.3) * rng.integers(0, 256, (5, 28, 28))).astype(np.uint8)


def _corrupt(words: np.ndarray, index: int, value: int, fix_crc: bool = True) -> np.ndarray:
    w = words.copy()
    w[index] = value
    if fix_crc:
        w[-1] = zlib.crc32(w[:-1].astype("<u4").tobytes())
    return w


def _loaded(blob_words) -> DeviceModel:
    dev = DeviceModel()
    out = dev.run_job(C.CMD_LOAD_WEIGHTS, blob_words)
    assert out.tolist() == [C.trailer(C.ERR_OK, 0)]
    return dev


def _expect_infer_ok(dev: DeviceModel, q, images) -> None:
    out, last = dev.run_job(C.CMD_INFER, pack_images(images), count=len(images), with_last=True)
    expected = np.append(golden.result_words(golden.run(q, images)), C.trailer(C.ERR_OK, len(images)))
    np.testing.assert_array_equal(out, expected)
    assert last.tolist() == [False] * (len(out) - 1) + [True]
    assert dev.read(C.REG_STATUS) == C.ERR_OK and dev.read(C.REG_IMAGES_DONE) == len(images)


def test_power_on_registers():
    dev = DeviceModel()
    assert dev.read(C.REG_CTRL) == IDLE
    # 0x14, 0x28 and 0x7C are unlisted: a reserved word after COMMAND, an unused word of STATUS's range, past the map.
    for reg in (C.REG_GIE, C.REG_IER, C.REG_ISR, C.REG_STATUS, C.REG_WEIGHTS_CRC, C.REG_IMAGES_DONE, 0x14, 0x28, 0x7C):
        assert dev.read(reg) == 0
    assert not dev.interrupt and not dev.busy
    with pytest.raises(ValueError):
        dev.read(0x80)
    with pytest.raises(ValueError):
        dev.write(0x02, 1)


def test_load_then_infer_and_the_control_bits(q, blob_words, images):
    dev = DeviceModel()
    dev.write(C.REG_COMMAND, C.CMD_LOAD_WEIGHTS)
    dev.write(C.REG_CTRL, C.CTRL_START)
    assert dev.busy and dev.read(C.REG_CTRL) == C.CTRL_START  # running: start held, not idle
    dev.write(C.REG_CTRL, C.CTRL_START)  # ignored while running
    assert dev.stream(blob_words[:100], last=np.zeros(100, bool)).size == 0
    out = dev.stream(blob_words[100:])
    assert out.tolist() == [C.trailer(C.ERR_OK, 0)]
    assert dev.read(C.REG_CTRL) == DONE_IDLE_READY
    assert dev.read(C.REG_CTRL) == IDLE  # ap_done and ap_ready clear on read
    assert dev.read(C.REG_WEIGHTS_CRC) == blob.crc_word(q) == blob_words[-1]
    assert dev.read(C.REG_STATUS + 4) == 1 and dev.read(C.REG_STATUS + 4) == 0  # ap_vld, clear on read
    _expect_infer_ok(dev, q, images)
    assert dev.read(C.REG_COMMAND) == C.CMD_INFER and dev.read(C.REG_COUNT) == len(images)


def test_auto_restart_is_read_write_and_restarts_each_job_until_cleared():
    # Vitis HLS's control_s_axi.v: every CTRL write sets auto_restart to bit 7; a job
    # ending with it set starts the next one at once and leaves CTRL's ap_done and
    # ap_ready 0, while ISR sees every job's end.
    dev = DeviceModel()
    dev.write(C.REG_CTRL, C.CTRL_AUTO_RESTART)  # no start: only the bit
    assert dev.read(C.REG_CTRL) == C.CTRL_AUTO_RESTART | IDLE and not dev.busy
    dev.write(C.REG_CTRL, 0)
    assert dev.read(C.REG_CTRL) == IDLE
    dev.write(C.REG_IER, C.ISR_DONE)
    dev.write(C.REG_COMMAND, 7)  # refused jobs: each drains its input to TLAST
    dev.write(C.REG_CTRL, C.CTRL_START | C.CTRL_AUTO_RESTART)
    trailer = C.trailer(C.ERR_BAD_COMMAND, 0)
    assert dev.stream([1, 2, 3]).tolist() == [trailer]
    assert dev.stream([4]).tolist() == [trailer]
    assert dev.read(C.REG_CTRL) == C.CTRL_START | C.CTRL_AUTO_RESTART and dev.busy
    assert dev.read(C.REG_ISR) == C.ISR_DONE and dev.read(C.REG_STATUS + C.VLD_OFFSET) == 1
    dev.write(C.REG_CTRL, 0)  # clears auto_restart; the running job goes on
    assert dev.read(C.REG_CTRL) == C.CTRL_START and dev.busy
    assert dev.stream([5, 6]).tolist() == [trailer]
    assert dev.read(C.REG_CTRL) == DONE_IDLE_READY and not dev.busy


def test_ctrl_bit_9_reads_the_interrupt_pin():
    dev = DeviceModel()
    dev.write(C.REG_GIE, 1)
    dev.write(C.REG_ISR, C.ISR_READY)  # toggle on write sets it
    assert dev.interrupt and dev.read(C.REG_CTRL) == C.CTRL_INTERRUPT | IDLE
    dev.write(C.REG_GIE, 0)
    assert not dev.interrupt and dev.read(C.REG_CTRL) == IDLE


def test_words_wait_while_idle_and_a_job_stops_at_its_tlast(q, blob_words, images):
    dev = DeviceModel()
    # Both jobs' words arrive before either starts, as when a DMA is primed early.
    both = np.concatenate([blob_words, pack_images(images[:2])])
    flags = np.zeros(both.size, bool)
    flags[blob_words.size - 1] = flags[-1] = True
    assert dev.stream(both, last=flags).size == 0 and not dev.busy
    both[:], flags[:] = 0, False  # the caller reuses its arrays: the waiting words were the model's to keep
    assert dev.run_job(C.CMD_LOAD_WEIGHTS).tolist() == [C.trailer(C.ERR_OK, 0)]
    out = dev.run_job(C.CMD_INFER, count=2)
    np.testing.assert_array_equal(out[:-1], golden.result_words(golden.run(q, images[:2])))
    assert out[-1] == C.trailer(C.ERR_OK, 2)


@pytest.mark.parametrize(
    "command, count, error",
    [(0, 1, C.ERR_BAD_COMMAND), (3, 1, C.ERR_BAD_COMMAND), (0xFFFFFFFF, 0, C.ERR_BAD_COMMAND),
     (C.CMD_INFER, 0, C.ERR_BAD_COUNT), (C.CMD_INFER, C.MAX_COUNT + 1, C.ERR_BAD_COUNT)],
)
def test_errors_decided_at_start_discard_the_input_to_tlast(q, blob_words, images, command, count, error):
    dev = _loaded(blob_words)
    crc = dev.read(C.REG_WEIGHTS_CRC)
    dev.write(C.REG_COMMAND, command)
    dev.write(C.REG_COUNT, count)
    dev.write(C.REG_CTRL, C.CTRL_START)
    assert dev.stream(pack_images(images), last=np.zeros(5 * C.IMAGE_WORDS, bool)).size == 0 and dev.busy
    assert dev.stream([1, 2, 3]).tolist() == [C.trailer(error, 0)]
    assert dev.read(C.REG_STATUS) == error and dev.read(C.REG_IMAGES_DONE) == 0
    assert dev.read(C.REG_WEIGHTS_CRC) == crc  # the weights survive a refused job
    _expect_infer_ok(dev, q, images)


def test_infer_without_weights_is_refused_then_works_after_a_load(q, blob_words, images):
    dev = DeviceModel()
    out = dev.run_job(C.CMD_INFER, pack_images(images), count=len(images))
    assert out.tolist() == [C.trailer(C.ERR_NO_WEIGHTS, 0)]
    assert dev.read(C.REG_STATUS) == C.ERR_NO_WEIGHTS
    dev.run_job(C.CMD_LOAD_WEIGHTS, blob_words)
    _expect_infer_ok(dev, q, images)


@pytest.mark.parametrize(
    "index, value, fix_crc, error",
    [(0, 0, True, C.ERR_BAD_MAGIC), (1, 2, True, C.ERR_BAD_VERSION), (2, 15608, True, C.ERR_BAD_LENGTH),
     (3, 0x20, True, C.ERR_BAD_SHIFT), (3, 0x80000000, True, C.ERR_BAD_SHIFT),
     (500, 0x12345678, False, C.ERR_BAD_CRC), (C.CRC_WORD_INDEX, 0, False, C.ERR_BAD_CRC)],
)
def test_bad_blobs_invalidate_the_weights_and_the_next_load_works(q, blob_words, images, index, value, fix_crc,
                                                                    error):
    dev = _loaded(blob_words)
    out = dev.run_job(C.CMD_LOAD_WEIGHTS, _corrupt(blob_words, index, value, fix_crc))
    assert out.tolist() == [C.trailer(error, 0)]
    assert dev.read(C.REG_STATUS) == error and dev.read(C.REG_WEIGHTS_CRC) == 0 and dev.weights is None
    assert dev.run_job(C.CMD_INFER, pack_images(images), count=5).tolist() == [C.trailer(C.ERR_NO_WEIGHTS, 0)]
    dev.run_job(C.CMD_LOAD_WEIGHTS, blob_words)
    _expect_infer_ok(dev, q, images)


@pytest.mark.parametrize("length", [1, 3, 4, 1000, C.BLOB_WORDS - 1])
def test_load_ending_early(blob_words, length):
    dev = _loaded(blob_words)
    assert dev.run_job(C.CMD_LOAD_WEIGHTS, blob_words[:length]).tolist() == [C.trailer(C.ERR_EARLY_TLAST, 0)]
    assert dev.read(C.REG_WEIGHTS_CRC) == 0 and dev.weights is None


def test_the_first_error_of_a_load_is_reported(blob_words):
    dev = DeviceModel()
    bad_magic = _corrupt(blob_words, 0, 1)
    assert dev.run_job(C.CMD_LOAD_WEIGHTS, bad_magic[:1]).tolist() == [C.trailer(C.ERR_BAD_MAGIC, 0)]
    assert dev.run_job(C.CMD_LOAD_WEIGHTS, bad_magic[:50]).tolist() == [C.trailer(C.ERR_BAD_MAGIC, 0)]
    # a bad version far from TLAST: everything after it is discarded up to the TLAST, however far
    long = np.concatenate([_corrupt(blob_words, 1, 9), np.arange(20, dtype=np.uint32)])
    assert dev.run_job(C.CMD_LOAD_WEIGHTS, long).tolist() == [C.trailer(C.ERR_BAD_VERSION, 0)]
    # at the last word BAD_CRC is checked before LATE_TLAST
    bad_crc = _corrupt(blob_words, C.CRC_WORD_INDEX, 0, fix_crc=False)
    out = dev.run_job(C.CMD_LOAD_WEIGHTS, np.append(bad_crc, [7, 7]))
    assert out.tolist() == [C.trailer(C.ERR_BAD_CRC, 0)]
    assert not dev.busy and dev.stream().size == 0


def test_load_with_a_late_tlast_discards_the_extra_words_and_invalidates(blob_words, q, images):
    dev = _loaded(blob_words)
    dev.write(C.REG_COMMAND, C.CMD_LOAD_WEIGHTS)
    dev.write(C.REG_CTRL, C.CTRL_START)
    assert dev.stream(blob_words, last=np.zeros(blob_words.size, bool)).size == 0 and dev.busy
    assert dev.stream(np.arange(3)).tolist() == [C.trailer(C.ERR_LATE_TLAST, 0)]
    assert dev.read(C.REG_WEIGHTS_CRC) == 0
    dev.run_job(C.CMD_LOAD_WEIGHTS, blob_words)
    _expect_infer_ok(dev, q, images)


@pytest.mark.parametrize("words, done", [(1, 0), (195, 0), (196, 1), (196 * 3 + 5, 3), (196 * 4, 4)])
def test_infer_ending_early_classifies_the_complete_images(q, blob_words, images, words, done):
    dev = _loaded(blob_words)
    out = dev.run_job(C.CMD_INFER, pack_images(images)[:words], count=5)
    expected = golden.result_words(golden.run(q, images[:done])).tolist() + [C.trailer(C.ERR_EARLY_TLAST, done)]
    assert out.tolist() == expected
    assert dev.read(C.REG_STATUS) == C.ERR_EARLY_TLAST and dev.read(C.REG_IMAGES_DONE) == done
    assert dev.read(C.REG_WEIGHTS_CRC) == blob_words[-1]
    _expect_infer_ok(dev, q, images)


def test_infer_with_a_late_tlast_classifies_all_then_discards(q, blob_words, images):
    dev = _loaded(blob_words)
    extra = np.append(pack_images(images), pack_images(images[:2]))  # COUNT=3, 5 images sent
    out = dev.run_job(C.CMD_INFER, extra, count=3)
    expected = golden.result_words(golden.run(q, images[:3])).tolist() + [C.trailer(C.ERR_LATE_TLAST, 3)]
    assert out.tolist() == expected
    _expect_infer_ok(dev, q, images)


def test_interrupt_follows_gie_ier_and_isr_toggles(blob_words):
    dev = DeviceModel()
    dev.write(C.REG_IER, C.ISR_DONE)
    dev.run_job(C.CMD_LOAD_WEIGHTS, blob_words)
    assert dev.read(C.REG_ISR) == C.ISR_DONE and not dev.interrupt  # GIE off
    dev.write(C.REG_GIE, 1)
    assert dev.interrupt
    dev.write(C.REG_ISR, C.ISR_DONE)  # toggle clears
    assert dev.read(C.REG_ISR) == 0 and not dev.interrupt
    dev.write(C.REG_ISR, C.ISR_READY)  # toggle sets
    assert dev.read(C.REG_ISR) == C.ISR_READY and dev.interrupt
    dev.write(C.REG_ISR, C.ISR_READY)
    dev.write(C.REG_IER, C.ISR_DONE | C.ISR_READY | 0xF0)
    assert dev.read(C.REG_IER) == 3
    assert dev.run_job(C.CMD_INFER, [0], count=1).tolist() == [C.trailer(C.ERR_EARLY_TLAST, 0)]
    assert dev.read(C.REG_ISR) == C.ISR_DONE | C.ISR_READY and dev.interrupt
    dev.write(C.REG_GIE, 0)
    assert not dev.interrupt


def test_reset_mid_job_returns_to_power_on(blob_words, q, images):
    dev = _loaded(blob_words)
    dev.write(C.REG_COMMAND, C.CMD_INFER)
    dev.write(C.REG_COUNT, 5)
    dev.write(C.REG_CTRL, C.CTRL_START)
    dev.stream(pack_images(images)[:300], last=np.zeros(300, bool))
    dev.reset()
    assert dev.read(C.REG_CTRL) == IDLE and dev.read(C.REG_WEIGHTS_CRC) == 0 and dev.stream().size == 0
    dev.run_job(C.CMD_LOAD_WEIGHTS, blob_words)
    _expect_infer_ok(dev, q, images)


def test_pack_images_puts_the_first_pixel_in_the_low_byte(images):
    words = pack_images(images)
    assert words.dtype == np.uint32 and words.shape == (5 * C.IMAGE_WORDS,)
    p = images[0].reshape(-1)
    assert words[0] == struct.unpack("<I", bytes(p[:4]))[0] == p[0] | p[1] << 8 | p[2] << 16 | p[3] << 24
    np.testing.assert_array_equal(unpack_images(words), images.reshape(5, -1))


def test_output_does_not_depend_on_how_the_input_is_split(q, blob_words, images):
    """Nor on the caller's arrays after each call: each piece is overwritten once streamed, as a reused DMA
    buffer would be, while the model still holds part of a blob or of an image."""
    whole = DeviceModel()
    expected = [whole.run_job(C.CMD_LOAD_WEIGHTS, blob_words).tolist(),
                whole.run_job(C.CMD_INFER, pack_images(images), count=5).tolist()]
    rng = np.random.default_rng(0)
    for command, words, count, want in ((C.CMD_LOAD_WEIGHTS, blob_words, 0, expected[0]),
                                        (C.CMD_INFER, pack_images(images), 5, expected[1])):
        pieces = np.split(words.copy(), np.sort(rng.choice(np.arange(1, words.size), 7, replace=False)))
        dev = _loaded(blob_words) if command == C.CMD_INFER else DeviceModel()
        dev.write(C.REG_COMMAND, command)
        dev.write(C.REG_COUNT, count)
        dev.write(C.REG_CTRL, C.CTRL_START)
        got = []
        for i, piece in enumerate(pieces):
            flags = np.zeros(piece.size, bool)
            flags[-1] = i == len(pieces) - 1
            got += dev.stream(piece, last=flags).tolist()
            piece[:], flags[:] = 0xA5A5A5A5, not flags[-1]
        assert got == want


@pytest.mark.parametrize("words", [[-1], [0x1_0000_0000], [3, -2**40]])
def test_stream_words_outside_32_bits_are_refused_with_their_range(words):
    with pytest.raises(ValueError, match=r"stream words span .*; they must be 0\.\.0xFFFFFFFF \(pass a uint32 array"):
        DeviceModel().stream(np.array(words, np.int64))
