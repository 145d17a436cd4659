"""The golden model against a literal, loop-by-loop reading of contract section 1."""

import numpy as np
import pytest

from lenet_pynq import blob, golden
from lenet_pynq import contract as C
from lenet_pynq.errors import LenetError
from lenet_pynq.images import as_images


def _wrap(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def _requant(acc: int, s: int) -> int:
    r = 1 << (s - 1) if s > 0 else 0
    return min(max(_wrap(acc + r) >> s, 0), 255)  # Python's >> on ints is arithmetic


def _reference(q: blob.QuantizedLeNet, image: np.ndarray) -> dict[str, np.ndarray]:
    """Section 1 word for word, with Python integers and explicit loops (slow, one image)."""
    t = {k: v.astype(object) for k, v in q.tensors.items()}
    x = np.zeros((1, 32, 32), dtype=object)
    x[0, 2:30, 2:30] = image.reshape(28, 28).astype(object)
    out = {"input": x}

    def conv(inp, w, b, s):
        co, _, k, _ = w.shape
        ho = inp.shape[1] - k + 1
        y = np.zeros((co, ho, ho), dtype=object)
        for o in range(co):
            for r in range(ho):
                for c in range(ho):
                    acc = _wrap(int(b[o]) + int((w[o] * inp[:, r:r + k, c:c + k]).sum()))
                    y[o, r, c] = _requant(acc, s)
        return y

    def pool(a):
        c, h, _ = a.shape
        return np.array([[[max(a[i, 2 * r, 2 * cc], a[i, 2 * r + 1, 2 * cc], a[i, 2 * r, 2 * cc + 1],
                               a[i, 2 * r + 1, 2 * cc + 1]) for cc in range(h // 2)] for r in range(h // 2)]
                         for i in range(c)], dtype=object)

    def fc(v, w, b, s):
        accs = [_wrap(int(b[o]) + sum(int(w[o, i]) * int(v[i]) for i in range(len(v)))) for o in range(len(b))]
        return np.array([a if s is None else _requant(a, s) for a in accs], dtype=object)

    out["conv1"] = conv(x, t["conv1.w"], t["conv1.b"], q.shifts["conv1"])
    out["pool1"] = pool(out["conv1"])
    out["conv2"] = conv(out["pool1"], t["conv2.w"], t["conv2.b"], q.shifts["conv2"])
    out["pool2"] = pool(out["conv2"])
    flat = [out["pool2"][c, y, xx] for c in range(16) for y in range(5) for xx in range(5)]
    out["fc1"] = fc(flat, t["fc1.w"], t["fc1.b"], q.shifts["fc1"])
    out["fc2"] = fc(out["fc1"], t["fc2.w"], t["fc2.b"], q.shifts["fc2"])
    out["fc3"] = fc(out["fc2"], t["fc3.w"], t["fc3.b"], None)
    return out


def _images(n: int, seed: int = 1) -> np.ndarray:
    """MNIST-like: mostly zero, some bright strokes."""
    rng = np.random.default_rng(seed)
    return ((rng.random((n, 28, 28)) < 0.25) * rng.integers(0, 256, (n, 28, 28))).astype(np.uint8)


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_the_literal_reading_layer_by_layer(seed):
    q = blob.random_model(seed)
    images = _images(2, seed)
    trace = {}
    logits = golden.run(q, images, trace)
    assert list(trace) == [name for name, _ in C.ACTIVATIONS]
    for name, shape in C.ACTIVATIONS:
        assert trace[name].shape == (2, *shape)
        assert trace[name].dtype == (np.int32 if name == "fc3" else np.uint8)
    for i in range(2):
        ref = _reference(q, images[i])
        for name, _ in C.ACTIVATIONS:
            np.testing.assert_array_equal(trace[name][i], ref[name].astype(np.int64), err_msg=name)
    np.testing.assert_array_equal(logits, trace["fc3"])
    # the random model's activations are neither all zero nor all saturated
    assert 0 < (trace["fc2"] > 0).mean() < 1


def test_accumulation_and_rounding_wrap_at_32_bits():
    q = blob.random_model(0)
    big = np.full(10, 2**31 - 1, dtype=np.int32)
    q.tensors["fc3.b"] = big  # fc3's sums overflow for any positive dot product
    q.tensors["fc1.b"] = np.full(120, 2**31 - 1, dtype=np.int32)  # sums and rounding adds wrap
    image = _images(1, 5)[0]
    trace = {}
    golden.run(q, image, trace)
    ref = _reference(q, image)
    np.testing.assert_array_equal(trace["fc3"][0], ref["fc3"].astype(np.int64))
    np.testing.assert_array_equal(trace["fc1"][0], ref["fc1"].astype(np.int64))
    assert (trace["fc3"] < 0).any(), "with bias 2**31-1 only a wrapped sum is negative"


@pytest.mark.parametrize(
    "acc, s, out",
    [(0, 0, 0), (255, 0, 255), (256, 0, 255), (-1, 0, 0), (3, 1, 2), (2, 1, 1), (1, 1, 1), (-1, 1, 0),
     (-2, 1, 0), (383, 8, 1), (384, 8, 2), (2**31 - 1, 31, 0), (-(2**31), 31, 0), (65407, 8, 255)],
)
def test_requantize_rounds_half_up_and_clamps(acc, s, out):
    assert golden.requantize(np.array([acc], np.int32), s)[0] == out == _requant(acc, s)


def test_classify_ties_go_to_the_lowest_index_and_words_follow_the_contract():
    logits = np.array([[5, 7, 7, 1, 0, 0, 0, 0, 0, 0], [-3] * 10], dtype=np.int32)
    np.testing.assert_array_equal(golden.classify(logits), [1, 0])
    words = golden.result_words(logits)
    assert words.dtype == np.uint32 and words.shape == (22,)
    assert words[0] == 1 and words[11] == 0 and words[12] == 0xFFFFFFFD


def test_image_shapes_and_batches_agree():
    q = blob.random_model(2)
    images = _images(golden.CHUNK + 7, 9)
    flat = golden.run(q, images.reshape(len(images), -1))
    np.testing.assert_array_equal(flat, golden.run(q, images))
    np.testing.assert_array_equal(flat[-3:], golden.run(q, images[-3:]))
    np.testing.assert_array_equal(flat[:1], golden.run(q, images[0].reshape(-1)))
    assert golden.run(q, images[:0]).shape == (0, 10)


def test_rejects_float_or_misshapen_images():
    q = blob.random_model(0)
    with pytest.raises(LenetError, match="uint8"):
        golden.run(q, np.zeros((1, 28, 28), np.float32))
    with pytest.raises(LenetError, match="shape"):
        golden.run(q, np.zeros((1, 32, 32), np.uint8))


def test_acc_peak_reports_the_largest_accumulator_per_layer():
    q = blob.random_model(0)
    peak = {}
    golden.run(q, _images(4), acc_peak=peak)
    assert set(peak) == {layer.name for layer in C.LAYERS}
    assert all(0 < v < 2**24 + 2**14 for v in peak.values())


@pytest.mark.parametrize("bad, message", [
    (np.zeros((2, 28, 28), np.float32), "expected uint8"),
    (np.zeros((2, 27, 27), np.uint8), "expected \\(N, 28, 28\\) or \\(N, 784\\)"),
])
def test_images_are_checked_once_for_the_golden_model_the_csim_and_the_driver(bad, message):
    from lenet_pynq.sim import csim

    with pytest.raises(LenetError, match=f"golden model: .*{message}"):
        golden.run(blob.random_model(0), bad)
    with pytest.raises(LenetError, match=f"C-sim: .*{message}"):
        csim._images(bad)
    assert as_images(np.zeros(784, np.uint8)).shape == (1, 28, 28)  # one image is a batch of one


# --- the fast path (calls without trace or acc_peak) against the reference path ------------

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def _reference_path(q: blob.QuantizedLeNet, images: np.ndarray) -> np.ndarray:
    return golden.run(q, images, acc_peak={})  # asking for acc_peak takes the reference path


def _edge_images() -> np.ndarray:
    """All-0, all-255, uniform noise and MNIST-like images: CHUNK + 5, so a full and a partial pass."""
    rng = np.random.default_rng(7)
    images = _images(golden.CHUNK + 5, 3)
    images[0], images[1] = 0, 255
    images[2:12] = rng.integers(0, 256, (10, 28, 28), dtype=np.uint8)
    return images


def _sum_bounds(q: blob.QuantizedLeNet, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Per output: the lowest and highest accumulator any uint8 input can give, bias and rounding included."""
    w = q.tensors[f"{name}.w"].reshape(len(q.tensors[f"{name}.b"]), -1).astype(np.int64)
    s = q.shifts[name]
    br = q.tensors[f"{name}.b"].astype(np.int64) + ((1 << (s - 1)) if s else 0)
    return br + 255 * np.minimum(w, 0).sum(axis=1), br + 255 * np.maximum(w, 0).sum(axis=1)


def _set_bias(q: blob.QuantizedLeNet, name: str, channel: int, value: int) -> None:
    b = q.tensors[f"{name}.b"].astype(np.int64)
    b[channel] = value
    q.tensors[f"{name}.b"] = b.astype(np.int32)


FLOAT_EXACT = 2**24  # float32 holds every integer up to this magnitude, and no more


def _edge_blob(seed: int, shift: int | None, in_float: dict[str, bool]) -> blob.QuantizedLeNet:
    """A random blob with extreme biases, steered into either branch of the fast path's requantization per layer.

    In float32 (``in_float[name]``): channel 0's highest and channel 1's
    lowest possible sum sit exactly on +-2**24, the check's boundary, and
    the other channels' biases cancel the rounding constant (2**30 at shift
    31), so their sums stay near 0.
    In int32: channels 0 and 1 have biases 1000 from int32's limits, so
    their sums wrap. fc3 (no requantization) gets biases of INT32_MAX and
    INT32_MIN on two outputs.
    """
    q = blob.random_model(seed)
    if shift is not None:
        q.shifts = dict.fromkeys(q.shifts, shift)
    for name, float_branch in in_float.items():
        if float_branch:
            s = q.shifts[name]
            q.tensors[f"{name}.b"] = (q.tensors[f"{name}.b"] - ((1 << (s - 1)) if s else 0)).astype(np.int32)
            low, high = _sum_bounds(q, name)
            b = q.tensors[f"{name}.b"].astype(np.int64)
            _set_bias(q, name, 0, int(b[0] + FLOAT_EXACT - high[0]))
            _set_bias(q, name, 1, int(b[1] - FLOAT_EXACT - low[1]))
        else:
            _set_bias(q, name, 0, INT32_MAX - 1000)
            _set_bias(q, name, 1, INT32_MIN + 1000)
    _set_bias(q, "fc3", 0, INT32_MAX)
    _set_bias(q, "fc3", 1, INT32_MIN)
    return q


def _conv1_extremes(q: blob.QuantizedLeNet) -> np.ndarray:
    """Two images giving conv1's channel 0 its highest and channel 1 its lowest possible sum, at one position."""
    w = q.tensors["conv1.w"][:, 0]
    images = np.zeros((2, 28, 28), np.uint8)
    images[0, 12:17, 12:17] = np.where(w[0] > 0, 255, 0)  # the window of output (14, 14)
    images[1, 12:17, 12:17] = np.where(w[1] < 0, 255, 0)
    return images


@pytest.mark.parametrize("shift", [None, 0, 31], ids=["blob-shifts", "shift-0", "shift-31"])
@pytest.mark.parametrize("conv2_float", [True, False], ids=["conv2-fc2-float", "conv2-fc2-int"])
@pytest.mark.parametrize("conv1_float", [True, False], ids=["conv1-fc1-float", "conv1-fc1-int"])
def test_fast_path_equals_the_reference_path_on_random_blobs(conv1_float, conv2_float, shift):
    branches = {"conv1": conv1_float, "fc1": conv1_float, "conv2": conv2_float, "fc2": conv2_float}
    q = _edge_blob(10 + 2 * conv1_float + conv2_float, shift, branches)
    assert golden._FastWeights(q).in_float == branches
    images = np.concatenate([_edge_images(), _conv1_extremes(q)])
    if conv1_float:  # the extreme images reach the boundary itself: acc + b + r = -2**24 for channel 1
        peak, s = {}, q.shifts["conv1"]
        golden.run(q, images[-2:], acc_peak=peak)
        assert peak["conv1"] == FLOAT_EXACT + ((1 << (s - 1)) if s else 0)
    np.testing.assert_array_equal(golden.run(q, images), _reference_path(q, images))


def test_float_requantization_holds_exactly_up_to_2_24():
    for name in ("conv1", "conv2", "fc1", "fc2"):
        q = blob.random_model(4)
        w, s = q.tensors[f"{name}.w"], q.shifts[name]
        low, high = _sum_bounds(q, name)
        b = q.tensors[f"{name}.b"].astype(np.int64)
        for channel, target, limit, step in ((0, high, FLOAT_EXACT, 1), (1, low, -FLOAT_EXACT, -1)):
            at_limit = int(b[channel] + limit - target[channel])
            for bias, exact in ((at_limit, True), (at_limit + step, False)):
                q2 = blob.random_model(4)
                _set_bias(q2, name, channel, bias)
                assert golden._in_float(w, q2.tensors[f"{name}.b"], s) is exact, (name, channel, bias)


def test_requantizing_wrapping_sums_in_float_would_be_wrong(monkeypatch):
    """The int32 branch is needed: with wrapping sums, forcing the float32 branch changes the logits."""
    q = _edge_blob(11, None, {"conv1": False, "conv2": False, "fc1": False, "fc2": False})
    images = _edge_images()
    reference = _reference_path(q, images)
    monkeypatch.setattr(golden, "_in_float", lambda w, b, shift: True)
    monkeypatch.setattr(golden, "_last_weights", None)  # nor may the forced weights outlive the test
    assert not np.array_equal(golden.run(q, images), reference)


@pytest.mark.parametrize("shift", [0, 1, 7, 23, 24, 31])
def test_float_requantization_is_the_contracts_shift_for_every_sum_within_2_24(shift):
    """The float32 branch's arithmetic on its own, at and near its bound: whatever layer the sums come from.

    acc * 2**-s is what the band or fc product gives with weights scaled by
    2**-s (exact, as the module docstring argues), (b + r) * 2**-s the
    offset; their sum floored and clamped must be the contract's byte.
    """
    rng = np.random.default_rng(shift)
    edge = FLOAT_EXACT
    total = np.concatenate([[-edge, -edge + 1, -1, 0, 1, min(255 << shift, edge), edge - 1, edge],
                            rng.integers(-edge, edge + 1, 4000)])  # acc + b + r
    b_r = np.clip(rng.integers(-edge, edge + 1, total.size), total - edge + 1, total + edge - 1)
    acc = total - b_r  # |acc| < 2**24, as every layer's sum of products
    scale = np.float32(2.0 ** -shift)
    scaled, offset = acc.astype(np.float32) * scale, b_r.astype(np.float32) * scale
    out = np.empty_like(scaled)
    golden._requantize_float(scaled, offset, out, scaled)
    np.testing.assert_array_equal(out, golden.requantize(total - golden.rounding(shift), shift))


def test_fast_path_equals_the_reference_path_on_all_test_images_with_the_shipped_blob():
    from lenet_pynq import mnist

    images, _ = mnist.load("test")
    q = blob.load(blob.shipped_path())
    assert len(images) == 10_000
    np.testing.assert_array_equal(golden.run(q, images), _reference_path(q, images))


def test_a_blob_changed_in_place_is_not_served_from_the_fast_paths_reused_weights():
    q = blob.random_model(6)
    images = _edge_images()[:8]
    before = golden.run(q, images)
    q.tensors["fc3.b"][3] += 1000  # in place: the same arrays, new contents
    q.tensors["conv1.w"][0, 0, 2, 2] ^= 0x55
    after = golden.run(q, images)
    np.testing.assert_array_equal(after, _reference_path(q, images))
    assert not np.array_equal(after, before)


@pytest.mark.parametrize("n, threads, sizes", [
    (1000, 2, [128] * 7 + [104]), (100, 2, [56, 44]), (300, 2, [80, 80, 80, 60]), (300, 1, [104, 104, 92]),
    (256, 2, [128, 128]), (257, 2, [72, 72, 72, 41]), (1, 2, [1]), (0, 2, [])])
def test_passes_give_every_thread_work(n, threads, sizes):
    passes = golden._passes(n, threads)
    assert [p.stop - p.start for p in passes] == sizes and max(sizes, default=0) <= golden.CHUNK
    assert [p.start for p in passes[1:]] == [p.stop for p in passes[:-1]]


def test_the_fast_paths_kept_arrays_serve_passes_of_any_size_and_concurrent_calls():
    """Each thread keeps its own arrays (golden._Kept): reused by the next call, never shared by two threads.

    Calls of CHUNK images, then of fewer (more sizes than it keeps), then
    CHUNK again reuse or remake the kept arrays (the image strips' zero
    border must still be zero); two calls at once, on different blobs, must
    each get their own logits.
    """
    from concurrent.futures import ThreadPoolExecutor

    images = _edge_images()
    blobs = [blob.random_model(20), _edge_blob(21, None, {"conv1": False, "conv2": False, "fc1": False, "fc2": False})]
    expected = [_reference_path(q, images) for q in blobs]
    for q, ref in zip(blobs, expected, strict=True):
        for n in (golden.CHUNK, 3, 1, 2, 40, 33, 5, golden.CHUNK):
            np.testing.assert_array_equal(golden.run(q, images[-n:]), ref[-n:])
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(3):
            futures = [pool.submit(golden.run, q, images) for q in blobs]
            for future, ref in zip(futures, expected, strict=True):
                np.testing.assert_array_equal(future.result(), ref)
