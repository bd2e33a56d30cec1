"""Wall-clock time of the costate pass and of central differences against network size.

Run from the repository root: ``.venv/bin/python benchmarks/gradient_scaling.py`` (about
ten seconds; ``--quick`` for a smoke run). It writes the
record ``gradient_scaling.json`` into the package (``lagprop.records``; see
``provenance.py``) and ``benchmarks/gradient_scaling.md``, shown in the book's
benchmarks appendix.

The costate chapter states the cheap-gradient principle as a count of multiply-adds: the
cost and its gradient take at most about three forward passes, whatever the number of
parameters, while central differences take two forward passes per parameter. This script
measures what the count leaves out (Python calls, argument checks, memory traffic, the
activation and its derivative) on one machine:

* ``lagrangian.backprop`` (forward and costate pass) over ``lagrangian.forward``,
  against the width (4 layers, 128 patterns) and the depth (width 64, 128 patterns),
  next to the multiply-add ratio of ``lagrangian.gradient_cost``;
* ``gradcheck.params_central_difference`` and ``lagrangian.backprop`` over the
  forward pass on small networks ``[n, n, n]``, 16 patterns, with the fitted log-log
  slope of each against the number of parameters (the count predicts 1 and 0).

Times are medians of calls taken in rotation; single-threaded linear algebra.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import provenance  # noqa: E402
from run import describe, machine, rotating_samples, summary  # noqa: E402

from lagprop import gradcheck, lagrangian, mlp  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT_JSON = provenance.record_path("gradient_scaling")  # lagprop.records.load
OUT_MD = ROOT / "benchmarks" / "gradient_scaling.md"


def ratios(sizes, patterns, repeats, central=False):
    """Seconds of a gradient over seconds of the forward pass (medians of pairs)."""
    g = np.random.default_rng(len(sizes) * 1000 + sizes[1])
    p = mlp.init_params(sizes, seed=g)
    xs = g.standard_normal((patterns, sizes[0]))
    ds = g.standard_normal((patterns, sizes[-1]))
    fns = {"forward": lambda: lagrangian.forward(p, xs),
           "costate": lambda: lagrangian.backprop(p, xs, ds)}
    if central:
        def cost(q):
            return lagrangian.cost(lagrangian.forward(q, xs).X[-1], ds)

        fns["central"] = lambda: gradcheck.params_central_difference(cost, p)
    t = rotating_samples(fns, repeats)
    row = {"sizes": sizes, "patterns": patterns,
           "n_params": lagrangian.gradient_cost(sizes).n_params,
           "count_ratio": lagrangian.gradient_cost(sizes, patterns).gradient_ratio,
           "forward_s": summary(t["forward"]),
           "costate_ratio": float(np.median(t["costate"] / t["forward"]))}
    if central:
        row["central_ratio"] = float(np.median(t["central"] / t["forward"]))
    return row


def name(sizes):
    if len(sizes) < 6:
        return "-".join(map(str, sizes))
    return f"{sizes[0]} x {len(sizes) - 1} layers"


def slope(xs, ys):
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def markdown(res):
    lines = [describe(res["machine"]), "",
             "Seconds of the forward and costate pass over seconds of the forward pass "
             "(median of paired calls), next to the multiply-add ratio of the costate "
             "chapter's count.", "",
             "| network | patterns | parameters | forward | measured ratio "
             "| count ratio |",
             "|---|---|---|---|---|---|"]
    for row in res["width"] + res["depth"]:
        f = row["forward_s"]
        lines.append(f"| {name(row['sizes'])} | {row['patterns']} | "
                     f"{row['n_params']} | {f['median'] * 1e3:.3f} ms | "
                     f"{row['costate_ratio']:.2f} | {row['count_ratio']:.2f} |")
    lines += ["", "Central differences against the costate pass on small networks, "
              "both over the forward pass:", "",
              "| network | parameters | central differences | costate pass "
              "| 2 n_theta |",
              "|---|---|---|---|---|"]
    for row in res["size"]:
        lines.append(f"| {name(row['sizes'])} | {row['n_params']} | "
                     f"{row['central_ratio']:.1f} | {row['costate_ratio']:.2f} | "
                     f"{2 * row['n_params']} |")
    s = res["slopes"]
    lines += ["", f"Fitted log-log slope against the number of parameters: central "
              f"differences {s['central']:.2f} (the count: 1), costate pass "
              f"{s['costate']:.2f} (the count: 0)."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few repeats, a smoke run")
    ap.add_argument("--commit", help="the commit of an exported tree without .git")
    args = ap.parse_args(argv)
    reps = 5 if args.quick else 41
    res = {"machine": machine(args.commit),
           "width": [ratios([n] * 5, 128, reps) for n in (32, 64, 128, 256)],
           "depth": [ratios([64] * (k + 1), 128, reps) for k in (1, 2, 4, 8)],
           "size": [ratios([n] * 3, 16, max(3, reps // 4), central=True)
                    for n in (2, 4, 8, 16)]}
    n = [r["n_params"] for r in res["size"]]
    res["slopes"] = {"central": slope(n, [r["central_ratio"] for r in res["size"]]),
                     "costate": slope(n, [r["costate_ratio"] for r in res["size"]])}
    OUT_JSON.write_text(json.dumps(res, indent=1) + "\n")
    OUT_MD.write_text(markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
