"""Every layer's gradient against central finite differences (float64), and the model's contract.

Each check computes the scalar L = sum(forward(...) * R) for a fixed random
R, so that d(out) = R, and compares the analytic gradient of every input
element and parameter with (L(v + h) - L(v - h)) / 2h.
"""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from lenet_pynq import contract
from lenet_pynq.train import layers, model

H = 1e-6
RTOL = 1e-6


def numeric_grad(f, v: np.ndarray) -> np.ndarray:
    """d f() / d v by central differences, perturbing v in place."""
    g = np.zeros_like(v)
    for i in np.ndindex(v.shape):
        old = v[i]
        v[i] = old + H
        up = f()
        v[i] = old - H
        down = f()
        v[i] = old
        g[i] = (up - down) / (2 * H)
    return g


def assert_close(analytic, numeric):
    scale = max(np.abs(numeric).max(), 1e-3)
    assert np.abs(analytic - numeric).max() <= RTOL * scale + 1e-8, \
        f"max error {np.abs(analytic - numeric).max():.3g} at scale {scale:.3g}"


@pytest.fixture()
def rng():
    return np.random.default_rng(0)


def reference_conv(x, w, b):
    """Cross-correlation written independently: einsum over sliding windows, channel-major."""
    k = w.shape[-1]
    win = sliding_window_view(x, (k, k), axis=(2, 3))  # (C, N, Ho, Wo, K, K)
    return np.einsum("cnyxij,ocij->onyx", win, w) + b[:, None, None, None]


@pytest.mark.parametrize("c, n, side, o, k", [(1, 2, 8, 3, 5), (3, 2, 7, 4, 3), (2, 3, 6, 2, 1)])
def test_conv_matches_direct_cross_correlation_and_its_gradients(rng, c, n, side, o, k):
    x = rng.standard_normal((c, n, side, side))
    w = rng.standard_normal((o, c, k, k))
    b = rng.standard_normal(o)
    out, cache = layers.conv_forward(x, w, b)
    assert np.allclose(out, reference_conv(x, w, b), atol=1e-12)
    r = rng.standard_normal(out.shape)
    dx, dw, db = layers.conv_backward(r, cache)
    loss = lambda: float((layers.conv_forward(x, w, b)[0] * r).sum())
    assert_close(dx, numeric_grad(loss, x))
    assert_close(dw, numeric_grad(loss, w))
    assert_close(db, numeric_grad(loss, b))
    none, dw_only, _ = layers.conv_backward(r, cache, need_dx=False)
    assert none is None and np.array_equal(dw_only, dw)


@pytest.mark.parametrize("c, o, side", [(1, 6, 32), (6, 16, 14)])
def test_conv_at_lenet_sizes_equals_the_plain_formulas(rng, c, o, side):
    """A training batch of 64: the same sums as written out with einsum."""
    n = 64
    x = rng.standard_normal((c, n, side, side))
    w = rng.standard_normal((o, c, 5, 5))
    b = rng.standard_normal(o)
    out, cache = layers.conv_forward(x, w, b)
    assert np.allclose(out, reference_conv(x, w, b), atol=1e-10)
    r = rng.standard_normal(out.shape)
    dx, dw, _ = layers.conv_backward(r, cache)
    win = sliding_window_view(x, (5, 5), axis=(2, 3))
    assert np.allclose(dw, np.einsum("onyx,cnyxij->ocij", r, win), rtol=1e-10)
    expected = np.zeros_like(x)  # dx[c, y+i, x+j] += w[o, c, i, j] * r[o, y, x]
    for i in range(5):
        for j in range(5):
            expected[:, :, i:i + side - 4, j:j + side - 4] += np.einsum("oc,onyx->cnyx", w[:, :, i, j], r)
    assert np.allclose(dx, expected, atol=1e-10)


def test_maxpool_relu_gradient(rng):
    x = rng.standard_normal((2, 3, 6, 8))
    out, cache = layers.maxpool_relu_forward(x)
    assert np.array_equal(out, np.maximum(x.reshape(2, 3, 3, 2, 4, 2).max(axis=(3, 5)), 0))
    assert 0 < (out > 0).mean() < 1, "some windows must be cut by the ReLU, some not"
    r = rng.standard_normal(out.shape)
    dx = layers.maxpool_relu_backward(r, cache)
    assert_close(dx, numeric_grad(lambda: float((layers.maxpool_relu_forward(x)[0] * r).sum()), x))


def test_maxpool_routes_a_tied_window_to_its_first_element_and_a_cut_window_nowhere():
    """Zero borders make exact ties common; the gradient must reach one element, not all, and none
    of a window whose maximum the ReLU cut (the all-zero window: a tie at 0, cut as well)."""
    x = np.zeros((1, 1, 2, 6))
    x[0, 0, :, 2:4] = [[1.0, 1.0], [1.0, 0.5]]
    x[0, 0, :, 4:] = [[-1.0, -2.0], [-0.5, -3.0]]
    _, cache = layers.maxpool_relu_forward(x)
    dx = layers.maxpool_relu_backward(np.array([[[[3.0, 5.0, 7.0]]]]), cache)
    assert dx.tolist() == [[[[0, 0, 5.0, 0, 0, 0], [0, 0, 0, 0, 0, 0]]]]


def _tied_maps(rng, c: int, n: int, side: int, blank: int) -> np.ndarray:
    """Small integers, with blank rows at the top: every sum exact in any order, pools with exact ties."""
    x = np.zeros((c, n, side, side))
    x[:, :, blank:side - 2, 2:side - 2] = rng.integers(0, 3, (c, n, side - 2 - blank, side - 4))
    return x


@pytest.mark.parametrize("layer, c, side, o", [("image", 1, 32, 6), ("maps", 6, 14, 16), ("maps", 2, 10, 3)])
@pytest.mark.parametrize("n", [1, 3])
def test_conv_pool_relu_is_conv_then_maxpool_relu_in_one_product(rng, layer, c, side, o, n):
    """The one-product layers against the two layers they replace: values, routing of ties, gradients.

    Small integer inputs and weights make every sum exact in either order,
    so the blank rows and the coarse values give the pools exact ties, and
    both must route them alike (rows first, then columns, to the first).
    The one-product layers are channel-last, the others channel-major.
    """
    x = _tied_maps(rng, c, n, side, blank=side // 3)
    w = rng.integers(-2, 3, (o, c, 5, 5)).astype(np.float64)
    b = rng.integers(-3, 4, o).astype(np.float64)
    z, conv_cache = layers.conv_forward(x, w, b)
    expected, pool_cache = layers.maxpool_relu_forward(z)
    if layer == "image":
        out, cache = layers.conv_pool_relu_image_forward(x, w, b)
    else:
        out, cache = layers.conv_pool_relu_forward(np.ascontiguousarray(x.transpose(1, 2, 3, 0)), w, b)
    assert np.array_equal(out, expected.transpose(1, 2, 3, 0))
    quads = z.reshape(o, n, z.shape[2] // 2, 2, z.shape[3] // 2, 2)
    winners = (quads == quads.max(axis=(3, 5), keepdims=True)).sum(axis=(3, 5))
    assert ((winners > 1) & (expected > 0)).any(), "some windows must tie at a positive maximum"
    r = rng.standard_normal(expected.shape)
    dx_expected, dw_expected, db_expected = layers.conv_backward(layers.maxpool_relu_backward(r, pool_cache),
                                                                 conv_cache)
    r_last = np.ascontiguousarray(r.transpose(1, 2, 3, 0))
    if layer == "image":
        dw, db = layers.conv_pool_relu_image_backward(r_last, cache)
    else:
        dx, dw, db = layers.conv_pool_relu_backward(r_last, cache)
        np.testing.assert_allclose(dx.transpose(3, 0, 1, 2), dx_expected, rtol=0,
                                   atol=1e-12 * np.abs(dx_expected).max())
    np.testing.assert_allclose(dw, dw_expected, rtol=0, atol=1e-12 * np.abs(dw_expected).max())
    np.testing.assert_allclose(db, db_expected, rtol=0, atol=1e-12 * np.abs(db_expected).max())


def test_conv_pool_relu_gradients_against_finite_differences(rng):
    x = rng.standard_normal((2, 10, 10, 3))
    w, b = rng.standard_normal((4, 3, 5, 5)), rng.standard_normal(4)
    out, cache = layers.conv_pool_relu_forward(x, w, b)
    assert 0 < (out > 0).mean() < 1, "some windows must be cut by the ReLU, some not"
    r = rng.standard_normal(out.shape)
    dx, dw, db = layers.conv_pool_relu_backward(r, cache)
    loss = lambda: float((layers.conv_pool_relu_forward(x, w, b)[0] * r).sum())
    for analytic, v in ((dx, x), (dw, w), (db, b)):
        assert_close(analytic, numeric_grad(loss, v))


@pytest.mark.parametrize("forward, x_shape, w_shape", [
    (layers.conv_pool_relu_image_forward, (2, 1, 32, 32), (6, 2, 5, 5)),
    (layers.conv_pool_relu_image_forward, (2, 1, 32, 32), (6, 1, 5, 5)),
    (layers.conv_pool_relu_image_forward, (1, 1, 30, 32), (6, 1, 5, 5)),
    (layers.conv_pool_relu_image_forward, (1, 1, 36, 32), (6, 1, 5, 5)),  # not square
    (layers.conv_pool_relu_forward, (1, 14, 14, 6), (16, 5, 5, 5)),
    (layers.conv_pool_relu_forward, (1, 13, 14, 6), (16, 6, 5, 5)),
    (layers.conv_pool_relu_forward, (1, 4, 14, 6), (16, 6, 5, 5)),  # no row of tiles
    (layers.conv_pool_relu_forward, (6, 1, 14, 14), (16, 6, 5, 5))])  # channel-major by mistake
def test_conv_pool_relu_refuses_shapes_it_cannot_tile(forward, x_shape, w_shape):
    with pytest.raises(ValueError, match=r"whole \d x \d tiles \(use conv_forward and maxpool_relu_forward"):
        forward(np.zeros(x_shape), np.zeros(w_shape), np.zeros(w_shape[0]))


@pytest.mark.parametrize("h, w, c, k", [(10, 14, 3, 5), (14, 10, 2, 5), (8, 12, 2, 3), (6, 6, 1, 5), (9, 11, 2, 2)])
def test_conv_pool_relu_on_maps_of_other_shapes_and_kernels(rng, h, w, c, k):
    """Non-square maps, other kernels (windows 1 or 2 tiles apart), a single tile: the scatter of the windows'
    gradients, written for LeNet's conv2, must hold for all."""
    x = np.ascontiguousarray(_tied_maps(rng, c, 2, max(h, w), blank=2)[:, :, :h, :w].transpose(1, 2, 3, 0))
    weights, bias = rng.integers(-2, 3, (3, c, k, k)).astype(np.float64), rng.integers(-3, 4, 3).astype(np.float64)
    out, cache = layers.conv_pool_relu_forward(x, weights, bias)
    z, conv_cache = layers.conv_forward(x.transpose(3, 0, 1, 2), weights, bias)
    expected, pool_cache = layers.maxpool_relu_forward(z)
    assert np.array_equal(out, expected.transpose(1, 2, 3, 0))
    r = rng.standard_normal(out.shape)
    dx, dw, db = layers.conv_pool_relu_backward(r, cache)
    dx_ref, dw_ref, db_ref = layers.conv_backward(layers.maxpool_relu_backward(r.transpose(3, 0, 1, 2), pool_cache),
                                                  conv_cache)
    np.testing.assert_allclose(dx.transpose(3, 0, 1, 2), dx_ref, rtol=0, atol=1e-12 * np.abs(dx_ref).max())
    np.testing.assert_allclose(dw, dw_ref, rtol=0, atol=1e-12 * np.abs(dw_ref).max())
    np.testing.assert_allclose(db, db_ref, rtol=0, atol=1e-12 * np.abs(db_ref).max())


def test_relu_and_linear_gradients(rng):
    x = rng.standard_normal((4, 5))
    r = rng.standard_normal((4, 5))
    out, positive = layers.relu_forward(x)
    assert_close(layers.relu_backward(r, positive),
                 numeric_grad(lambda: float((layers.relu_forward(x)[0] * r).sum()), x))
    w, b = rng.standard_normal((3, 5)), rng.standard_normal(3)
    out, cache = layers.linear_forward(x, w, b)
    r = rng.standard_normal(out.shape)
    dx, dw, db = layers.linear_backward(r, cache)
    loss = lambda: float((layers.linear_forward(x, w, b)[0] * r).sum())
    for analytic, v in ((dx, x), (dw, w), (db, b)):
        assert_close(analytic, numeric_grad(loss, v))


def test_cross_entropy_value_and_gradient(rng):
    logits = rng.standard_normal((5, 10)) * 3
    labels = np.array([0, 3, 9, 3, 1])
    loss, grad = layers.cross_entropy(logits, labels)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.log(p[np.arange(5), labels]).mean(), rel=1e-12)
    assert_close(grad, numeric_grad(lambda: layers.cross_entropy(logits, labels)[0], logits))


def float64_model(seed=1):
    net = model.LeNet5(seed=seed)
    rng = np.random.default_rng(seed)
    params = {k: v.astype(np.float64) for k, v in net.params.items()}
    for k, v in params.items():
        if k.endswith(".b"):  # non-zero biases, so their gradients are exercised too
            params[k] = rng.standard_normal(v.shape) * 0.1
    net.load_params(params)
    return net


def test_whole_model_gradient_of_every_parameter(rng):
    net = float64_model()
    images = rng.integers(0, 256, (3, 28, 28)).astype(np.uint8)
    images[:, :6] = 0  # blank rows, as in MNIST: ties in the pools
    x = model.preprocess(images).astype(np.float64)
    labels = np.array([1, 2, 3])
    _, dlogits = layers.cross_entropy(net.forward(x), labels)
    grads = net.backward(dlogits)
    loss = lambda: layers.cross_entropy(net.forward(x), labels)[0]
    for name, p in net.params.items():
        flat = p.reshape(-1)  # a view: perturbing it perturbs the parameter
        picks = rng.choice(flat.size, size=min(flat.size, 12), replace=False)
        for i in picks:
            old = flat[i]
            flat[i] = old + H
            up = loss()
            flat[i] = old - H
            down = loss()
            flat[i] = old
            numeric = (up - down) / (2 * H)
            analytic = grads[name].reshape(-1)[i]
            assert abs(analytic - numeric) <= 1e-6 * max(abs(numeric), 1e-3), f"{name}[{i}]"


def test_preprocess_is_divide_by_255_and_zero_pad():
    images = np.arange(2 * 784, dtype=np.int64).reshape(2, 28, 28) % 256
    x = model.preprocess(images.astype(np.uint8))
    assert x.shape == (2, 1, 32, 32) and x.dtype == np.float32
    p = contract.PAD
    assert np.array_equal(x[:, 0, p:p + 28, p:p + 28], (images / 255).astype(np.float32))
    assert x.sum() == pytest.approx(x[:, 0, p:p + 28, p:p + 28].sum())
    assert np.array_equal(model.preprocess(images.astype(np.uint8).reshape(2, 784)), x)
    with pytest.raises(ValueError, match="expected images of shape"):
        model.preprocess(np.zeros((2, 32, 32), np.uint8))


def test_params_follow_the_contract_and_he_init_happens_at_construction():
    a, b, c = model.LeNet5(seed=0), model.LeNet5(seed=0), model.LeNet5(seed=1)
    assert list(a.params) == [s.name for s in contract.SECTIONS]
    for s in contract.SECTIONS:
        assert a.params[s.name].shape == s.shape and a.params[s.name].dtype == np.float32
        assert np.array_equal(a.params[s.name], b.params[s.name])
    assert not np.array_equal(a.params["fc1.w"], c.params["fc1.w"])
    assert a.params["fc1.w"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.05)
    before = {k: v.copy() for k, v in a.params.items()}
    a.forward(model.preprocess(np.zeros((1, 28, 28), np.uint8)))
    assert all(np.array_equal(before[k], a.params[k]) for k in before), "a forward pass changed the weights"


def test_trace_has_every_activation_and_fc1_reads_pool2_in_c_order(rng):
    net = model.LeNet5(seed=0)
    x = model.preprocess(rng.integers(0, 256, (2, 28, 28)).astype(np.uint8))
    trace = {}
    logits = net.forward(x, trace)
    for name, shape in contract.ACTIVATIONS:
        assert trace[name].shape == (2, *shape) and trace[name].dtype == np.float32, name
    assert np.array_equal(trace["fc3"], logits)
    assert np.array_equal(trace["pool1"], trace["conv1"].reshape(2, 6, 14, 2, 14, 2).max(axis=(3, 5)))
    p = net.params
    fc1 = np.maximum(trace["pool2"].reshape(2, 400) @ p["fc1.w"].T + p["fc1.b"], 0)
    assert np.allclose(trace["fc1"], fc1, rtol=1e-5, atol=1e-6)
    conv1 = np.maximum(reference_conv(x.transpose(1, 0, 2, 3), p["conv1.w"], p["conv1.b"]), 0)
    assert np.allclose(trace["conv1"], conv1.transpose(1, 0, 2, 3), atol=1e-5)


def test_a_traced_forward_takes_the_two_layer_path_and_agrees_with_the_one_product_layers(rng):
    """With ``trace`` the model forms the conv layers' maps (conv_forward, maxpool_relu_forward); without, it
    does not (conv_pool_relu_*): the same logits up to float rounding, and backward works after either."""
    net = model.LeNet5(seed=2)
    images = rng.integers(0, 256, (4, 28, 28)).astype(np.uint8)
    images[:, :6] = 0
    x, labels = model.preprocess(images), np.array([0, 3, 5, 7])
    grads = {}
    for traced in (False, True):
        logits = net.forward(x, {} if traced else None)
        _, dlogits = layers.cross_entropy(logits, labels)
        grads[traced] = net.backward(dlogits)
        if not traced:
            plain = logits
    np.testing.assert_allclose(logits, plain, rtol=1e-5, atol=1e-5)
    for name in model.PARAM_NAMES:
        scale = np.abs(grads[False][name]).max()
        np.testing.assert_allclose(grads[True][name], grads[False][name], rtol=0, atol=1e-5 * scale, err_msg=name)


@pytest.mark.parametrize("threads", [2, 3])
def test_a_batch_cut_over_threads_gives_the_one_thread_gradients(threads):
    """Parts of a batch computed in parallel threads, weighted by their share: the same step up to rounding."""
    net = model.LeNet5(seed=3)
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (64, 28, 28)).astype(np.uint8)
    images[:, :6] = 0
    x, labels = model.preprocess(images), rng.integers(0, 10, 64)
    loss1, logits1, grads1 = net.loss_and_gradients(x, labels, threads=1)
    loss_n, logits_n, grads_n = net.loss_and_gradients(x, labels, threads=threads)
    assert loss_n == pytest.approx(loss1, rel=1e-6)
    np.testing.assert_allclose(logits_n, logits1, rtol=1e-5, atol=1e-6)
    for name in model.PARAM_NAMES:
        scale = np.abs(grads1[name]).max()
        assert scale > 0, name
        np.testing.assert_allclose(grads_n[name], grads1[name], rtol=0, atol=1e-5 * scale, err_msg=name)
    # and the one-thread step is forward + cross-entropy + backward, exactly
    loss, dlogits = layers.cross_entropy(net.forward(x), labels)
    grads = net.backward(dlogits)
    assert loss == loss1 and all(np.array_equal(grads[k], grads1[k]) for k in grads1)
