"""The recorded benchmarks and experiments that the book's chapters read.

Some chapters show and check numbers that take minutes or hours to measure: the
accuracies of the real-data experiments, the timings of the recurrent-network
gradients, the small-dissipation benchmark over many landscape draws. The scripts of
the repository's ``benchmarks/`` directory measure them and write each record as a
JSON file into this package, so that the records travel with it: a chapter run from
an installed wheel, outside the repository, reads, draws and checks the same records
as the book.

Every record names the date, the machine and the commit it measured. The readable
summary of each is ``benchmarks/<name>.md`` in the repository, written by the same
script.

=================  ===================================================================
record             written by
=================  ===================================================================
``checkpointing``  ``benchmarks/checkpointing.py``: binomial checkpointing
``conjecture``     ``benchmarks/conjecture.py``: the small-dissipation conjecture
``constrained``    ``benchmarks/constrained.py``: the constrained roads, timed
``experiments``    ``benchmarks/experiments.py``: MNIST-1D and the 8 x 8 digits
``mutation``       ``benchmarks/mutation.py``: mutation scores of the package's tests
``results``        ``benchmarks/run.py``: gradient costs, recurrent methods, chapters
``second_order``   ``benchmarks/second_order.py``: Hessian-vector products, Newton
=================  ===================================================================
"""

import json
from importlib import resources

from .._validate import _describe

__all__ = ["names", "load"]


def names():
    """The names of the records shipped with the package.

    Returns
    -------
    list of str
        The names, sorted; each is accepted by :func:`load`.

    Examples
    --------
    >>> from lagprop import records
    >>> "experiments" in records.names()
    True
    """
    folder = resources.files(__name__)
    return sorted(entry.name[: -len(".json")] for entry in folder.iterdir()
                  if entry.name.endswith(".json"))


def load(name):
    """Read one recorded benchmark or experiment.

    Each call reads the file again and returns a new object, so a caller that changes it
    changes nothing that a later call returns.

    Parameters
    ----------
    name : str
        The record's name, one of :func:`names`: ``"experiments"`` for the real-data
        experiments, ``"results"`` for the benchmarks of ``benchmarks/run.py``,
        ``"conjecture"`` for the small-dissipation benchmark, and so on (the name of
        the script's ``benchmarks/<name>.md`` summary).

    Returns
    -------
    dict
        The record as parsed from its JSON file. It names the date, the machine and
        the commit it measured (at its top level, or under ``"machine"`` or
        ``"meta"``; a record measured in parts names them for each part).

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If no record has that name; the message lists the names there are.

    Examples
    --------
    >>> from lagprop import records
    >>> rec = records.load("experiments")
    >>> rec["seeds"]
    [1, 2, 3, 4, 5]
    """
    available = names()
    if not isinstance(name, str):
        raise TypeError(f"`name` must be the name of a record, one of "
                        f"{', '.join(map(repr, available))}; got {_describe(name)}")
    if name not in available:
        raise ValueError(f"`name` must be the name of a record, one of "
                         f"{', '.join(map(repr, available))}; got {name!r}")
    path = resources.files(__name__).joinpath(name + ".json")
    return json.loads(path.read_text(encoding="utf-8"))
