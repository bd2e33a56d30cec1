"""lagprop: the companion package of *Backpropagation from Lagrangians*.

Back-propagation as the stationarity conditions of a Lagrange function (le Cun 1988) and online
back-propagation as a least-action principle (Frandina, Gori, Lippi, Maggini and Melacci 2013),
in small NumPy functions whose names follow the papers' symbols.

The book, which derives and checks every function here, is the documentation: each chapter
says which functions it uses, and its appendix "API reference" lists them all. Start with
``lagprop.lagrangian`` (forward pass, costate pass, ``backprop``).

Modules
-------
activations, mlp       named activations; layered networks (parameters, flatten/unflatten)
lagrangian             the Lagrange function, forward, costate and tangent passes, gradient
curvature              the constraint Jacobian and the Hessians (second-order conditions)
sharing                transformed parameter spaces W(U): tied weights, convolutions, RNNs
recurrent              fixed points, Pineda-Almeida relaxation, direct solve, BPTT, spectra
equilibrium            the Hopfield energy and equilibrium propagation
supervision            timed supervision streams and the mollifier
dynamics               the cognitive-action dynamics (impulsive, mollified, heavy ball)
action                 the discretised cognitive action and its Euler-Lagrange equation
energy                 kinetic energy, dissipation, work of the supervision: the ledger
landscapes             the test landscapes of the small-dissipation conjecture
adjoint                the continuous-time costate and its discretisations
gradcheck              central differences, Jacobians, dot-product tests, fitted orders
datasets               small seeded data sets made in code; MNIST-1D and the 8x8 digits
optim                  SGD with momentum and Adam
classify               softmax cross-entropy costate; dense, convolutional and tied classifiers
graph                  the Lagrangian of any computational graph
checkpoint             binomial checkpointing: the schedule and its slot store
constrained            the constrained problem solved directly: penalty, augmented, ADMM, saddle
records                the recorded benchmarks and experiments that the chapters read
plotting               the book's figure helpers (needs matplotlib: ``pip install lagprop[plot]``)
"""

__version__ = "0.2.0"

from ._errors import ConvergenceError  # noqa: E402
from . import activations, mlp, lagrangian, curvature  # noqa: E402
from . import gradcheck, sharing, recurrent, equilibrium  # noqa: E402
from . import supervision, dynamics, action, energy, landscapes, adjoint, datasets  # noqa: E402
from . import optim, classify, checkpoint, graph, constrained, records  # noqa: E402

__all__ = [
    "ConvergenceError",
    "__version__",
    "activations",
    "mlp",
    "lagrangian",
    "curvature",
    "gradcheck",
    "sharing",
    "recurrent",
    "equilibrium",
    "supervision",
    "dynamics",
    "action",
    "energy",
    "landscapes",
    "adjoint",
    "datasets",
    "optim",
    "classify",
    "checkpoint",
    "graph",
    "constrained",
    "records",
]


def __dir__():
    # tab completion shows the public names only; plotting is imported on first use
    return sorted(__all__ + ["plotting"])


def __getattr__(name):
    # plotting needs matplotlib, an optional dependency: import it on first use
    if name == "plotting":
        import importlib

        try:
            return importlib.import_module(".plotting", __name__)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] == "matplotlib":
                raise ImportError("lagprop.plotting needs matplotlib: pip install 'lagprop[plot]'") from exc
            raise
    raise AttributeError(f"module 'lagprop' has no attribute {name!r}")
