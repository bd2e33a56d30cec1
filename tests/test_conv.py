"""The fast convolution kernel (sharing.conv1d, conv1d_costate) against the tied dense layer."""

import numpy as np
import pytest

from lagprop import sharing
from lagprop.lagrangian import _costate, _forward, _layer_activations
from lagprop.gradcheck import central_difference

CASES = [  # (P, C, n, F, K, stride, padding)
    (3, 1, 12, 1, 3, 1, 0),
    (4, 2, 11, 3, 4, 2, 1),
    (2, 3, 9, 2, 3, 3, 2),
    (5, 1, 40, 4, 5, 2, 1),  # the first layer of the MNIST-1D CNN, narrower
    (2, 2, 5, 2, 5, 1, 0),  # kernel as long as the input
]


def _random(case, seed):
    P, C, n, F, K, s, p = case
    rng = np.random.default_rng(seed)
    return rng.standard_normal((P, C, n)), rng.standard_normal((F, C, K)), rng.standard_normal(F)


def _dense(case, v, b):
    P, C, n, F, K, s, p = case
    ties = sharing.strided_conv1d_ties(n, K, in_channels=C, n_filters=F, stride=s, padding=p)
    u = np.concatenate([v.ravel(), b])
    return sharing.expand(u, [ties])[0], ties


def test_tie_map_defaults_are_conv1d_ties():
    for n, K, F in [(10, 3, 1), (7, 7, 2), (12, 4, 3)]:
        a = sharing.strided_conv1d_ties(n, K, n_filters=F)
        b = sharing.conv1d_ties(n, K, n_filters=F)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_single_channel_is_np_correlate():
    # an independent definition: numpy's cross-correlation of the zero-padded signal
    rng = np.random.default_rng(0)
    x, v, b = rng.standard_normal((2, 1, 15)), rng.standard_normal((1, 1, 4)), np.array([0.3])
    for s, p in [(1, 0), (2, 1), (3, 2)]:
        A = sharing.conv1d(x, v, b, stride=s, padding=p)
        for q in range(2):
            ref = np.correlate(np.pad(x[q, 0], p), v[0, 0], "valid")[::s] + 0.3
            np.testing.assert_allclose(A[q, 0], ref, rtol=0, atol=1e-13)


@pytest.mark.parametrize("case", CASES)
def test_forward_equals_tied_dense_layer(case):
    x, v, b = _random(case, 1)
    (W, bW), _ = _dense(case, v, b)
    P, C, n, F, K, s, p = case
    A_dense = x.reshape(P, C * n) @ W.T + bW
    A_fast = sharing.conv1d(x, v, b, stride=s, padding=p)
    assert A_fast.shape == (P, F, sharing.conv1d_output_length(n, K, stride=s, padding=p))
    assert np.max(np.abs(A_fast.reshape(P, -1) - A_dense)) <= 1e-12


@pytest.mark.parametrize("case", CASES)
def test_costate_equals_tied_dense_layer(case):
    P, C, n, F, K, s, p = case
    x, v, b = _random(case, 2)
    (W, bW), ties = _dense(case, v, b)
    n_out = sharing.conv1d_output_length(n, K, stride=s, padding=p)
    Y = np.random.default_rng(3).standard_normal((P, F, n_out))
    B, gv, gb = sharing.conv1d_costate(x, v, Y, stride=s, padding=p)
    # dense: B(k-1) = W^T Y, dC/dW = -Y^T X, then the sum over ties
    B_dense = Y.reshape(P, -1) @ W
    gW = -(Y.reshape(P, -1).T @ x.reshape(P, -1))
    g_u = sharing.tied_gradient([(gW, -Y.reshape(P, -1).sum(axis=0))], [ties])
    assert np.max(np.abs(B.reshape(P, -1) - B_dense)) <= 1e-12
    assert np.max(np.abs(np.concatenate([gv.ravel(), gb]) - g_u)) <= 1e-12


def test_gradient_by_central_differences():
    # a one-layer tanh net with the quadratic cost: the costate's weight gradient against C(v)
    case = (3, 2, 10, 2, 3, 2, 1)
    P, C, n, F, K, s, p = case
    x, v, b = _random(case, 4)
    D = np.random.default_rng(5).standard_normal((P, F, 5))

    def C_of(vb):
        A = sharing.conv1d(x, vb[:-F].reshape(v.shape), vb[-F:], stride=s, padding=p)
        return float(np.sum((D - np.tanh(A)) ** 2))

    A = sharing.conv1d(x, v, b, stride=s, padding=p)
    Y = (1 - np.tanh(A) ** 2) * 2 * (D - np.tanh(A))
    _, gv, gb = sharing.conv1d_costate(x, v, Y, stride=s, padding=p)
    fd = central_difference(C_of, np.concatenate([v.ravel(), b]))
    np.testing.assert_allclose(np.concatenate([gv.ravel(), gb]), fd, rtol=1e-7, atol=1e-9)


def test_through_the_package_costate_pass():
    # the tied dense network through lagrangian's own forward/costate: same B(0)
    case = (2, 1, 12, 3, 4, 2, 1)
    P, C, n, F, K, s, p = case
    x, v, b = _random(case, 6)
    (W, bW), _ = _dense(case, v, b)
    Fs = _layer_activations(1, "tanh", "identity")
    D = np.random.default_rng(7).standard_normal((P, W.shape[0]))
    fwd = _forward([(W, bW)], x.reshape(P, -1), Fs)
    co = _costate([(W, bW)], fwd.X, fwd.A, D, Fs)
    B0_dense = co.Y[1] @ W
    B0, _, _ = sharing.conv1d_costate(x, v, co.Y[1].reshape(P, F, -1), stride=s, padding=p)
    assert np.max(np.abs(B0.reshape(P, -1) - B0_dense)) <= 1e-12


@pytest.mark.parametrize("call, match", [
    (lambda: sharing.conv1d(np.zeros((2, 3)), np.zeros((1, 1, 2)), np.zeros(1)), "`x`"),
    (lambda: sharing.conv1d(np.zeros((2, 2, 5)), np.zeros((1, 1, 2)), np.zeros(1)), "`kernels`"),
    (lambda: sharing.conv1d(np.zeros((2, 1, 5)), np.zeros((1, 1, 2)), np.zeros(2)), "`bias`"),
    (lambda: sharing.conv1d(np.zeros((2, 1, 3)), np.zeros((1, 1, 6)), np.zeros(1)), "`kernel_size`"),
    (lambda: sharing.conv1d(np.zeros((2, 1, 5)), np.zeros((1, 1, 2)), np.zeros(1), stride=0),
     "`stride`"),
    (lambda: sharing.conv1d_costate(np.zeros((2, 1, 5)), np.zeros((1, 1, 2)), np.zeros((2, 1, 3))),
     "`Y`"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
