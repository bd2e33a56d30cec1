"""lagprop.classify: the cross-entropy costate and the models' gradients by central differences."""

import numpy as np
import pytest

from lagprop import classify as cl, datasets, optim, sharing
from lagprop.gradcheck import central_difference


def _flat(ps):
    return np.concatenate([p.ravel() for p in ps])


def _unflat(t, like):
    out, i = [], 0
    for p in like:
        out.append(t[i:i + p.size].reshape(p.shape))
        i += p.size
    return out


def test_cross_entropy_closed_form():
    Z = np.array([[0.0, 0.0], [np.log(3.0), 0.0]])
    assert cl.cross_entropy(Z, np.array([0, 1])) == pytest.approx((np.log(2.0) + np.log(4.0)) / 2)
    np.testing.assert_allclose(cl.softmax(Z), [[0.5, 0.5], [0.75, 0.25]])
    assert cl.accuracy(Z, np.array([1, 0])) == 0.5  # argmax picks the first of a tie
    # large logits: no overflow, no warning
    assert np.isfinite(cl.cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1])))


def test_costate_is_minus_the_gradient():
    rng = np.random.default_rng(0)
    Z, y = rng.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2])
    fd = central_difference(lambda z: cl.cross_entropy(z.reshape(5, 4), y), Z.ravel())
    np.testing.assert_allclose(cl.cross_entropy_costate(Z, y).ravel(), -fd, atol=1e-9)


MODELS = [
    cl.Dense([6, 3]),
    cl.Dense([6, 5, 4, 3], activation="tanh"),
    cl.ConvNet(6, 3, channels=(2, 3), kernel_sizes=(3, 2), strides=(2, 1), paddings=(1, 0),
               activation="tanh"),
    cl.TiedNet([sharing.strided_conv1d_ties(6, 3, n_filters=2),
                sharing.dense_ties(3, 8, start=8)], activation="tanh"),
]


@pytest.mark.parametrize("model", MODELS, ids=["logistic", "mlp", "cnn", "tied"])
def test_model_gradient_by_central_differences(model):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((4, 6)), np.array([0, 2, 1, 2])
    p = model.init(3)
    assert _flat(p).size == model.n_params
    C, g = model.backprop(p, x, y)
    assert C == pytest.approx(cl.cross_entropy(model.logits(p, x), y), rel=1e-14)
    fd = central_difference(lambda t: cl.cross_entropy(model.logits(_unflat(t, p), x), y), _flat(p))
    np.testing.assert_allclose(_flat(g), fd, rtol=1e-6, atol=1e-9)


def test_convnet_is_the_tied_network():
    # one conv layer + head: ConvNet and the TiedNet of its tie map give the same logits
    net = cl.ConvNet(8, 2, channels=(2,), kernel_sizes=(3,), strides=(2,), paddings=(1,),
                     activation="tanh")
    p = net.init(0)
    ties = [sharing.strided_conv1d_ties(8, 3, n_filters=2, stride=2, padding=1),
            sharing.dense_ties(2, 8, start=8)]
    tied = cl.TiedNet(ties, activation="tanh")
    u = np.concatenate([p[0].ravel(), p[1], p[2].ravel(), p[3]])
    x = np.random.default_rng(2).standard_normal((3, 8))
    np.testing.assert_allclose(net.logits(p, x), tied.logits([u], x), rtol=0, atol=1e-13)
    y = np.array([0, 1, 1])
    np.testing.assert_allclose(_flat(net.backprop(p, x, y)[1]), tied.backprop([u], x, y)[1][0],
                               rtol=0, atol=1e-13)


def test_conv2d_ties_counts():
    sh = cl.conv2d_ties(8, 8, 3, n_filters=2, stride=1, shared=True)
    lc = cl.conv2d_ties(8, 8, 3, n_filters=2, stride=1, shared=False)
    assert (sh[0] >= 0).sum(axis=1).tolist() == [9] * 72
    np.testing.assert_array_equal(sh[0] >= 0, lc[0] >= 0)  # same connections
    assert sharing.n_shared([sh]) == 2 * 9 + 2
    assert sharing.n_shared([lc]) == 72 * 10


def test_training_learns_digits():
    d = datasets.digits(n_train=500, seed=0)
    h = cl.train(cl.Dense([64, 10]), d, optimizer=optim.Adam(1e-2), steps=200, seed=0,
                 eval_every=100)
    assert h.step.tolist() == [100, 200]
    assert h.test_accuracy[-1] > 0.85 and h.train_loss[-1] < h.train_loss[0]


def test_bad_labels():
    with pytest.raises(ValueError, match="`labels`"):
        cl.cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="`labels`"):
        cl.cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))
