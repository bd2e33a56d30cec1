"""lagprop.classify: the cross-entropy costate, the models' gradients by central
differences, validation at the boundary and training."""

import numpy as np
import pytest

from lagprop import ConvergenceError, datasets, lagrangian, optim, sharing
from lagprop import classify as cl
from lagprop.gradcheck import central_difference


def _leaves(tree):
    if isinstance(tree, (list, tuple)):
        return [leaf for node in tree for leaf in _leaves(node)]
    return [tree]


def _flat(ps):
    return np.concatenate([p.ravel() for p in _leaves(ps)])


def _unflat(t, like):
    """Parameters structured like ``like`` (pairs, or one vector) from a flat vector."""
    if isinstance(like, np.ndarray):
        return t.reshape(like.shape)
    out, i = [], 0
    for W, b in like:
        j = i + W.size
        out.append((t[i:j].reshape(W.shape), t[j:j + b.size]))
        i += W.size + b.size
    return out


def test_cross_entropy_closed_form():
    Z = np.array([[0.0, 0.0], [np.log(3.0), 0.0]])
    expect = (np.log(2.0) + np.log(4.0)) / 2
    assert cl.cross_entropy(Z, np.array([0, 1])) == pytest.approx(expect)
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
    cl.ConvNet(6, 3, channels=(2, 3), kernel_sizes=(3, 2), strides=(2, 1),
               paddings=(1, 0), activation="tanh"),
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
    def cost(t):
        return cl.cross_entropy(model.logits(_unflat(t, p), x), y)

    fd = central_difference(cost, _flat(p))
    np.testing.assert_allclose(_flat(g), fd, rtol=1e-6, atol=1e-9)


def test_the_models_take_one_default_activation_relu():
    import inspect

    defaults = {cls.__name__: inspect.signature(cls).parameters["activation"].default
                for cls in (cl.Dense, cl.ConvNet, cl.TiedNet)}
    assert set(defaults.values()) == {"relu"}, defaults
    ties = [sharing.dense_ties(3, 2), sharing.dense_ties(2, 3, start=9)]
    models = [cl.Dense([2, 3, 2]), cl.ConvNet(), cl.TiedNet(ties)]
    assert [m.activation for m in models] == ["relu"] * 3
    # the tied net's default, by hand: ReLU hidden layer, linear output
    tied, x = models[2], np.random.default_rng(0).standard_normal((5, 2))
    u = tied.init(1)
    (W1, b1), (W2, b2) = sharing.expand(u, ties)
    by_hand = np.maximum(x @ W1.T + b1, 0.0) @ W2.T + b2
    np.testing.assert_allclose(tied.logits(u, x), by_hand, rtol=0, atol=1e-14)
    assert np.any(x @ W1.T + b1 < 0)  # the ReLU cuts something


def test_convnet_is_the_tied_network():
    # one conv layer + head: ConvNet and the TiedNet of its tie map give the same logits
    net = cl.ConvNet(8, 2, channels=(2,), kernel_sizes=(3,), strides=(2,),
                     paddings=(1,), activation="tanh")
    p = net.init(0)
    ties = [sharing.strided_conv1d_ties(8, 3, n_filters=2, stride=2, padding=1),
            sharing.dense_ties(2, 8, start=8)]
    tied = cl.TiedNet(ties, activation="tanh")
    u = _flat(p)
    x = np.random.default_rng(2).standard_normal((3, 8))
    np.testing.assert_allclose(net.logits(p, x), tied.logits(u, x), rtol=0, atol=1e-13)
    y = np.array([0, 1, 1])
    np.testing.assert_allclose(_flat(net.backprop(p, x, y)[1]),
                               tied.backprop(u, x, y)[1], rtol=0, atol=1e-13)


def test_dense_params_are_the_packages_pairs():
    # the same parameters drive lagrangian.forward (identity output): the logits agree
    net = cl.Dense([5, 4, 3], activation="tanh")
    p = net.init(1)
    assert [(W.shape, b.shape) for W, b in p] == [((4, 5), (4,)), ((3, 4), (3,))]
    x = np.random.default_rng(0).standard_normal((6, 5))
    fwd = lagrangian.forward(p, x, activation="tanh")
    np.testing.assert_array_equal(net.logits(p, x), fwd.X[-1])
    C, g = net.backprop(p, x, np.array([0, 1, 2, 0, 1, 2]))
    assert [(gW.shape, gb.shape) for gW, gb in g] == [((4, 5), (4,)), ((3, 4), (3,))]
    # a single pattern may be a 1-D array
    np.testing.assert_array_equal(net.logits(p, x[0]), fwd.X[-1][:1])


def test_conv2d_ties_counts():
    sh = cl.conv2d_ties(8, 8, 3, n_filters=2, stride=1, shared=True)
    lc = cl.conv2d_ties(8, 8, 3, n_filters=2, stride=1, shared=False)
    assert (sh[0] >= 0).sum(axis=1).tolist() == [9] * 72
    np.testing.assert_array_equal(sh[0] >= 0, lc[0] >= 0)  # same connections
    assert sharing.n_shared([sh]) == 2 * 9 + 2
    assert sharing.n_shared([lc]) == 72 * 10


def test_training_learns_digits():
    d = datasets.digits(n_train=500, seed=0)
    params, log = cl.train(cl.Dense([64, 10]), d, optimizer=optim.Adam(1e-2), steps=200,
                           seed=0, eval_every=100)
    assert log.iteration.tolist() == [100, 200]
    assert log.test_accuracy[-1] > 0.85 and log.train_loss[-1] < log.train_loss[0]
    assert cl.accuracy(cl.Dense([64, 10]).logits(params, d.x_test), d.y_test) \
        == log.test_accuracy[-1]


@pytest.mark.parametrize("opt", [optim.Adam(1e-2), optim.Momentum(0.05, rho=0.9)],
                         ids=["adam", "momentum"])
def test_one_optimiser_serves_two_runs_without_carrying_state(opt):
    d = datasets.digits(n_train=200, seed=1)
    kw = dict(optimizer=opt, steps=20, batch_size=50, seed=3)
    first = cl.train(cl.Dense([64, 10]), d, **kw)
    cl.train(cl.Dense([64, 12, 10]), d, **kw)  # another structure in between
    again = cl.train(cl.Dense([64, 10]), d, **kw)
    for (W1, b1), (W2, b2) in zip(first[0], again[0]):
        np.testing.assert_array_equal(W1, W2)
        np.testing.assert_array_equal(b1, b2)
    np.testing.assert_array_equal(first[1].train_loss, again[1].train_loss)


def test_divergence_raises_convergence_error_with_step_and_cost():
    d = datasets.digits(n_train=100, seed=0)
    net = cl.Dense([64, 10])
    signs = np.random.default_rng(0).choice([-1.0, 1.0], size=(10, 64))
    big = [(1e307 * signs, np.zeros(10))]  # finite, but the logits overflow
    with pytest.raises(ConvergenceError,
                       match="(?s)diverged at step 1 of 5.*starting `params`") as info:
        cl.train(net, d, optimizer=optim.Momentum(1.0), steps=5, params=big)
    assert info.value.iterations == 1
    with pytest.raises(ConvergenceError,
                       match=r"(?s)diverged at step \d+ of 50.*last finite cost") \
            as info:
        cl.train(net, d, optimizer=optim.Momentum(1e306, rho=0.0), steps=50)
    assert np.isfinite(info.value.residual)


def test_extreme_logits_leak_no_warning():
    Z = np.array([[1e308, -1e308], [-1e308, 1e308]])
    np.testing.assert_array_equal(cl.softmax(Z), [[1.0, 0.0], [0.0, 1.0]])
    assert cl.cross_entropy(Z, np.array([0, 1])) == 0.0
    # a log-probability below -1e308
    assert cl.cross_entropy(Z, np.array([1, 1])) == np.inf


def test_huge_weights_raise_instead_of_returning_nan():
    net = cl.Dense([3, 4, 2])
    p = [(np.full((4, 3), 1e200), np.zeros(4)), (np.full((2, 4), 1e200), np.zeros(2))]
    with pytest.raises(FloatingPointError,
                       match="`params` or `x` are finite but too large"):
        net.backprop(p, np.ones((2, 3)), np.array([0, 1]))


_D = cl.Dense([3, 4, 2])
_DP = _D.init(0)
_C = cl.ConvNet(8, 3, channels=(2,), kernel_sizes=(3,), strides=(2,), paddings=(1,))
_CP = _C.init(0)
_T = cl.TiedNet([sharing.dense_ties(2, 3)])
_X = np.ones((2, 3))
_Y = np.array([0, 1])
_SPLIT = datasets.LabelledSplit(np.ones((4, 3)), np.array([0, 1, 0, 1]),
                                np.ones((2, 3)), np.array([0, 1]))
_NAN = [(np.full((4, 3), np.nan), np.zeros(4)), _DP[1]]
_BAD = [
    # the cost
    ("xent empty", lambda: cl.cross_entropy(np.zeros((0, 3)), np.array([], dtype=int)),
     ValueError, "`logits` must hold at least one pattern"),
    ("accuracy empty", lambda: cl.accuracy(np.zeros((0, 3)), np.array([], dtype=int)),
     ValueError, "`logits` must hold at least one pattern"),
    ("xent label 3", lambda: cl.cross_entropy(np.zeros((2, 3)), np.array([0, 3])),
     ValueError, r"`labels` must lie in 0..2"),
    ("xent label -1", lambda: cl.cross_entropy(np.zeros((2, 3)), np.array([0, -1])),
     ValueError, r"`labels` must lie in 0..2"),
    ("xent float labels", lambda: cl.cross_entropy(np.zeros((2, 3)), [0.0, 1.0]),
     ValueError, "`labels` must be 2 integers"),
    ("xent label count", lambda: cl.cross_entropy(np.zeros((2, 3)), np.array([0])),
     ValueError, "`labels` must be 2 integers"),
    ("softmax 1-D", lambda: cl.softmax(np.zeros(3)),
     ValueError, "`logits` must be 2-D"),
    ("softmax nan", lambda: cl.softmax(np.array([[np.nan, 0.0]])), ValueError,
     "`logits` must be finite"),
    ("costate inf", lambda: cl.cross_entropy_costate(np.array([[np.inf, 0.0]]), [0]),
     ValueError, "`logits` must be finite"),
    # Dense
    ("dense label -1", lambda: _D.backprop(_DP, _X, [0, -1]), ValueError,
     r"`labels` must lie in 0..1"),
    ("dense label 2", lambda: _D.backprop(_DP, _X, [0, 2]),
     ValueError, r"`labels` must lie"),
    ("dense labels float", lambda: _D.backprop(_DP, _X, [0.0, 1.0]), ValueError,
     "`labels` must be 2 integers"),
    ("dense label count", lambda: _D.backprop(_DP, _X, [0, 1, 1]), ValueError,
     "`labels` must be 2 integers"),
    ("dense x width", lambda: _D.logits(_DP, np.ones((2, 4))), ValueError,
     "`x` must have 3 columns"),
    ("dense x empty", lambda: _D.logits(_DP, np.ones((0, 3))), ValueError,
     "`x` must hold at least one pattern"),
    ("dense x nan", lambda: _D.logits(_DP, np.full((1, 3), np.nan)), ValueError,
     "`x` must be finite"),
    ("dense flat params", lambda: _D.logits([a for pair in _DP for a in pair], _X),
     ValueError, r"`params` must be a list of 2 pairs"),
    ("dense params short", lambda: _D.logits(_DP[:1], _X), ValueError,
     r"`params` must be a list of 2 pairs"),
    ("dense params widths", lambda: _D.logits(cl.Dense([3, 5, 2]).init(0), _X),
     ValueError, r"`params` must have the widths \[3, 4, 2\]"),
    ("dense params nan", lambda: _D.backprop(_NAN, _X, _Y), ValueError,
     r"`params\[0\]\[0\] \(W_1\)` must be finite"),
    ("dense sizes", lambda: cl.Dense([3]), ValueError, "`sizes` needs at least two"),
    ("dense activation", lambda: cl.Dense([3, 2], activation="soft"), ValueError,
     "`activation`"),
    # ConvNet
    ("conv channels 0", lambda: cl.ConvNet(channels=(25, 0, 25)), ValueError,
     r"`channels\[1\]` must be >= 1"),
    ("conv channels -3", lambda: cl.ConvNet(channels=(-3, 25, 25)), ValueError,
     r"`channels\[0\]` must be >= 1"),
    ("conv channels 2.5", lambda: cl.ConvNet(channels=(2.5, 25, 25)), TypeError,
     r"`channels\[0\]` must be an integer"),
    ("conv channels str", lambda: cl.ConvNet(channels="25"), TypeError,
     "`channels` must be a sequence"),
    ("conv padding -1", lambda: cl.ConvNet(paddings=(1, -1, 1)), ValueError,
     r"`paddings\[1\]` must be >= 0"),
    ("conv lengths", lambda: cl.ConvNet(channels=(25, 25)), ValueError,
     "one entry per layer"),
    ("conv no layers", lambda: cl.ConvNet(channels=(), kernel_sizes=(), strides=(),
                                          paddings=()), ValueError, "at least one"),
    ("conv n_classes 0", lambda: cl.ConvNet(n_classes=0),
     ValueError, "`n_classes` must be >= 1"),
    ("conv kernel too long", lambda: cl.ConvNet(4, kernel_sizes=(9, 3, 3)), ValueError,
     "`kernel_size` must be <="),
    ("conv params flat", lambda: _C.logits([a for pair in _CP for a in pair],
                                           np.ones((1, 8))),
     ValueError, "`params` must be a list of 2 pairs"),
    ("conv kernel shape", lambda: _C.logits([(np.ones((2, 1, 4)), np.ones(2)), _CP[1]],
                                            np.ones((1, 8))),
     ValueError, r"`params\[0\]\[0\]` must have shape \(2, 1, 3\)"),
    ("conv label 3", lambda: _C.backprop(_CP, np.ones((1, 8)), [3]), ValueError,
     "`labels` must lie in 0..2"),
    ("conv x width", lambda: _C.logits(_CP, np.ones((1, 7))), ValueError,
     "`x` must have 8 columns"),
    # TiedNet
    ("tied params list", lambda: _T.logits([np.zeros(_T.n_params)], np.ones((1, 3))),
     ValueError, r"`params` must be the vector u of the 8 free parameters"),
    ("tied params short", lambda: _T.logits(np.zeros(7), np.ones((1, 3))), ValueError,
     r"shape \(8,\)"),
    ("tied label", lambda: _T.backprop(np.zeros(8), np.ones((1, 3)), [2]), ValueError,
     "`labels` must lie in 0..1"),
    # train
    ("train model", lambda: cl.train(object(), _SPLIT, optimizer=optim.Adam(), steps=1),
     TypeError, "`model` must be"),
    ("train data", lambda: cl.train(_D, (1, 2), optimizer=optim.Adam(), steps=1),
     TypeError, "`data` must have x_train"),
    ("train optimizer", lambda: cl.train(_D, _SPLIT, optimizer=None, steps=1),
     TypeError, "`optimizer` must have init"),
    ("train steps", lambda: cl.train(_D, _SPLIT, optimizer=optim.Adam(), steps=0),
     ValueError, "`steps` must be >= 1"),
    ("train labels vs classes", lambda: cl.train(
        _D, _SPLIT._replace(y_train=np.array([0, 1, 2, 1])), optimizer=optim.Adam(),
        steps=1),
     ValueError, r"`data.y_train` must lie in 0..1 \(2 classes\)"),
    ("train width", lambda: cl.train(
        _D, _SPLIT._replace(x_test=np.ones((2, 5))), optimizer=optim.Adam(), steps=1),
     ValueError, "`data.x_test` must have 3 columns"),
    ("train nan params", lambda: cl.train(_D, _SPLIT, optimizer=optim.Adam(), steps=1,
                                          params=_NAN),
     ValueError, r"`params\[0\]\[0\] \(W_1\)` must be finite"),
    ("train seed", lambda: cl.train(_D, _SPLIT, optimizer=optim.Adam(), steps=1,
                                    seed=-1),
     ValueError, "`seed` must be >= 0"),
]


@pytest.mark.parametrize("make, exc, match", [c[1:] for c in _BAD],
                         ids=[c[0] for c in _BAD])
def test_bad_input(make, exc, match):
    with pytest.raises(exc, match=match):
        make()
