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
