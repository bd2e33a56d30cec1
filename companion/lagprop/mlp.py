r"""Layered networks in le Cun's (1988) notation.

An N-layer network maps :math:`X(0)` (the input) through

.. math:: A(k) = W(k) X(k-1) + b(k), \qquad X(k) = F_k(A(k)), \qquad k = 1, \dots, N.

The paper has no biases (a bias is a weight from a unit clamped to one); lagprop keeps them
explicit. The parameters of an N-layer network are the list ``params`` with
``params[k-1] == (W_k, b_k)``, ``W_k.shape == (n_k, n_{k-1})`` and ``b_k.shape == (n_k,)``.
"""

import numpy as np

from ._validate import (_describe, as_float_array, positive_int, positive_scalar, real_scalar,
                        seed_or_generator)

__all__ = ["init_params", "check_sizes", "check_params", "sizes_of", "flatten", "unflatten", "n_params"]


def __dir__():
    return list(__all__)


def init_params(sizes, *, seed=0, scale=1.0, bias=0.0):
    r"""Random parameters for a layered network with layer widths ``sizes``.

    Weights are drawn i.i.d. from :math:`\mathcal N(0, \mathrm{scale}^2 / n_{k-1})` (variance
    preserving for unit-gain activations), biases are set to the constant ``bias``.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths :math:`(n_0, n_1, \dots, n_N)`, at least two entries, all >= 1.
    seed : int or numpy.random.Generator, keyword-only
        Seed of the generator (default 0), so the same call gives the same network.
    scale : float, keyword-only
        Gain multiplying the standard deviation :math:`1/\sqrt{n_{k-1}}`.
    bias : float, keyword-only
        Initial value of every bias.

    Returns
    -------
    list of tuple of ndarray
        ``[(W_1, b_1), ..., (W_N, b_N)]``, float64.

    Raises
    ------
    ValueError
        If ``sizes`` has fewer than two entries or an entry below one, ``scale`` is not a finite
        number > 0, or ``bias`` is not finite.
    TypeError
        A non-integer width or seed, or a non-real ``scale`` or ``bias``.
    """
    sizes = check_sizes(sizes)
    rng = seed_or_generator(seed)
    scale = positive_scalar(scale, "scale")
    bias = real_scalar(bias, "bias")
    return [
        (rng.normal(0.0, scale / np.sqrt(n_in), size=(n_out, n_in)), np.full(n_out, float(bias)))
        for n_in, n_out in zip(sizes[:-1], sizes[1:])
    ]


def check_sizes(sizes):
    r"""Validate layer widths :math:`(n_0, \dots, n_N)` and return them as a list of int.

    Raises
    ------
    ValueError
        Fewer than two widths, or a width below one.
    TypeError
        ``sizes`` is not a sequence of integers.
    """
    try:
        sizes = [positive_int(n, "sizes") for n in sizes]
    except TypeError as exc:
        raise TypeError(f"`sizes` must be a sequence of positive integers, got {sizes!r}") from exc
    if len(sizes) < 2:
        raise ValueError(f"`sizes` needs at least two widths (input and output), got {sizes!r}")
    return sizes


def check_params(params, name="params"):
    """Validate a parameter list and return it as float64 arrays.

    Raises
    ------
    ValueError
        If ``params`` is empty, an entry is not a pair ``(W_k, b_k)``, a ``W_k`` is not 2-D, a
        ``b_k`` does not have ``W_k.shape[0]`` entries, consecutive layers do not chain
        (``W_k.shape[1] != W_{k-1}.shape[0]``), or a value is not finite.
    """
    if isinstance(params, np.ndarray) and params.ndim == 1 and params.dtype.kind in "biuf":
        raise ValueError(f"`{name}` must be a list of (W_k, b_k) pairs, got a flat "
                         f"array of shape {params.shape}; use mlp.unflatten(theta, "
                         "like) to split a parameter vector")
    if (isinstance(params, (np.ndarray, str)) or not hasattr(params, "__len__")
            or len(params) == 0):
        raise ValueError(f"`{name}` must be a non-empty list of (W_k, b_k) pairs, got "
                         f"{_describe(params)}")
    out = []
    for k, layer in enumerate(params, start=1):
        if not _is_pair(layer):
            raise ValueError(f"`{name}[{k - 1}]` must be a pair (W_{k}, b_{k}), got "
                             f"{_describe(layer)}")
        W = as_float_array(layer[0], f"{name}[{k - 1}][0] (W_{k})", ndim=2)
        if 0 in W.shape:
            raise ValueError(f"`{name}[{k - 1}][0]` (W_{k}) must have at least one row "
                             f"and column, got shape {W.shape}")
        b = as_float_array(layer[1], f"{name}[{k - 1}][1] (b_{k})", ndim=1)
        prev = out[-1][0].shape[0] if out else None
        if b.shape[0] != W.shape[0] or (prev is not None and W.shape[1] != prev):
            nxt = np.shape(params[k][0]) if k < len(params) and _is_pair(params[k]) else ()
            next_cols = nxt[1] if len(nxt) == 2 else None
            _raise_layer_mismatch(name, k, W.shape, b.shape, prev, next_cols)
        out.append((W, b))
    return out


def _is_pair(layer):
    return isinstance(layer, (tuple, list)) and len(layer) == 2


def _raise_layer_mismatch(name, k, W_shape, b_shape, prev, next_cols):
    """Say which of W_k and b_k is wrong; a transposed W_k is named as such.

    ``prev`` is the width of layer k-1 (None for k = 1) and ``next_cols`` the column count of
    W_{k+1} (None for the last layer): the widths the neighbours say layer k has.
    """
    where = f"`{name}[{k - 1}][0]` (W_{k})"
    rule = "W_k has shape (n_k, n_{k-1}), one row per unit of layer k"
    n_b = b_shape[0]
    if n_b != W_shape[0]:
        could_be_transposed = W_shape[1] == n_b and (prev is None or W_shape[0] == prev)
        if could_be_transposed and next_cols == n_b:
            raise ValueError(f"{where} looks transposed: {rule}, so ({n_b}, "
                             f"{W_shape[0]}) here, got shape {W_shape}; pass W_{k}.T")
        if could_be_transposed and next_cols is None:
            raise ValueError(f"{where} of shape {W_shape} and `{name}[{k - 1}][1]` "
                             f"(b_{k}) of shape {b_shape} disagree: {rule}; if W_{k} "
                             f"is transposed pass W_{k}.T, else give b_{k} shape "
                             f"({W_shape[0]},)")
        raise ValueError(f"`{name}[{k - 1}][1]` (b_{k}) must have shape "
                         f"({W_shape[0]},) to match "
                         f"W_{k} of shape {W_shape} ({rule}), got {b_shape}")
    raise ValueError(f"{where} must have {prev} columns to follow layer {k - 1} of "
                     f"width {prev} "
                     f"({rule}), got shape {W_shape}")


def sizes_of(params):
    """The layer widths :math:`(n_0, \\dots, n_N)` of a parameter list."""
    params = check_params(params)
    return [params[0][0].shape[1]] + [W.shape[0] for W, _ in params]


def n_params(params):
    """The number of scalar parameters (weights and biases) of a valid parameter list."""
    return _n_params(check_params(params))


def _n_params(params):
    return sum(W.size + b.size for W, b in params)


def flatten(params):
    """Concatenate all parameters into one 1-D float64 vector (W_1, b_1, W_2, b_2, ...)."""
    return _flatten(check_params(params))


def _flatten(params):
    return np.concatenate([np.concatenate([np.ravel(W), np.ravel(b)]) for W, b in params])


def unflatten(theta, like):
    """Inverse of :func:`flatten`: split ``theta`` into the structure of the parameter list ``like``.

    Raises
    ------
    ValueError
        ``like`` is not a valid parameter list, or ``theta`` is not 1-D, not finite or of the
        wrong length.
    """
    like = check_params(like, "like")
    theta = as_float_array(theta, "theta", ndim=1)
    n = _n_params(like)
    if theta.size != n:
        raise ValueError(f"`theta` must have {n} entries to match `like`, got {theta.size}")
    return _unflatten(theta, like)


def _unflatten(theta, like):
    out, i = [], 0
    for W, b in like:
        Wn = theta[i : i + W.size].reshape(W.shape)
        i += W.size
        bn = theta[i : i + b.size].reshape(b.shape)
        i += b.size
        out.append((Wn, bn))
    return out
