"""Time of the constrained roads against back-propagation (the chapter 'Other roads').

Run from the repository root: ``.venv/bin/python benchmarks/constrained.py [--quick]``. It writes
the record ``constrained.json`` into the package (``companion/lagprop/records``, read
with ``lagprop.records.load("constrained")``) and ``benchmarks/constrained.md``: for the
chapter's three tasks,
the time of one iteration of each training method (median and interquartile range over repeated
runs taken in rotation), the iterations until the cost first falls to 10 % and to 1 % of its
initial value, and the time that takes; and at fixed weights, the time of each multiplier method
to a relative residual of 1e-8 (1e-6 for the penalty; ``tol * max(1, ||B||)``, ||B|| = 9.0
here) against one forward and costate pass, and each with its defaults. The date, the
machine and the commit are recorded with the results. Single-threaded BLAS, as in the
book's other benchmarks of small networks.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import provenance  # noqa: E402
from run import machine, rotating_samples, summary  # noqa: E402

from lagprop import constrained, datasets, lagrangian, mlp  # noqa: E402

OUT_JSON = provenance.record_path("constrained")
OUT_MD = ROOT / "benchmarks" / "constrained.md"


def tasks():
    """The chapter's tasks: (sizes, inputs, targets, output activation, lr of GD, lr of saddle)."""
    rng = np.random.default_rng(3)
    xb = np.vstack([rng.normal([-1.0, 0.0], 0.6, (15, 2)), rng.normal([1.0, 0.5], 0.6, (15, 2))])
    return {"XOR": ([2, 3, 1], *datasets.xor(), "sigmoid", 0.2, 0.05),
            "sine": ([1, 8, 1], *datasets.sine_regression(20, seed=0), "identity", 0.005, 0.01),
            "two classes": ([2, 4, 1], xb, np.repeat([[0.0], [1.0]], 15, axis=0), "sigmoid", 0.05,
                            0.01)}


METHODS = {"penalty (MAC)": ("penalty", 100,
                             dict(growth=1.02, penalty_max=1e3, inner=3)),
           "ADMM": ("admm", 100, {}),
           "descent-ascent": ("saddle", 2000, dict(penalty=1.0))}


def first_below(costs, level):
    hit = np.nonzero(costs <= level)[0]
    return int(hit[0]) if hit.size else None


def bench_training(repeats):
    rows = []
    for task, (sizes, x, d, out, lr, lr_saddle) in tasks().items():
        p0 = mlp.init_params(sizes, seed=0)
        runs = {"back-propagation": lambda: lagrangian.gradient_descent(
            p0, x, d, lr=lr, steps=2000, output_activation=out)[1]}
        steps = {"back-propagation": 2000}
        for name, (method, n, opts) in METHODS.items():
            extra = dict(eta=lr_saddle) if method == "saddle" else {}
            runs[name] = (lambda method=method, n=n, opts=opts, extra=extra: constrained.train(
                p0, x, d, method=method, steps=n, output_activation=out, **opts, **extra)[1].cost)
            steps[name] = n
        costs = {name: fn() for name, fn in runs.items()}
        samples = rotating_samples(runs, repeats)
        for name in runs:
            per_iter = samples[name] / steps[name]
            s = summary(per_iter)
            c = costs[name]
            hits = {f: first_below(c, f * c[0]) for f in (0.1, 0.01)}
            rows.append({"task": task, "method": name, "iterations": steps[name],
                         "seconds_per_iteration": s, "final_cost": float(c[-1]),
                         "iterations_to": {str(f): h for f, h in hits.items()},
                         "seconds_to": {str(f): (None if h is None else h * s["median"])
                                        for f, h in hits.items()}})
    return rows


def bench_multipliers(repeats):
    rng = np.random.default_rng(0)
    params = mlp.init_params([3, 4, 4, 2], seed=1, bias=0.1)
    x, d = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    solve = constrained.multipliers
    calls = {"forward + costate pass": lambda: lagrangian.costate(
                 params, lagrangian.forward(params, x), d),
             "penalty, tol 1e-6": lambda: solve(params, x, d, method="penalty", tol=1e-6),
             "augmented, rho = 10 fixed, tol 1e-8": lambda: solve(
                 params, x, d, method="augmented", penalty=10.0, growth=1.0, tol=1e-8),
             "descent-ascent, rho = 2, eta = 0.2, tol 1e-8": lambda: solve(
                 params, x, d, method="saddle", eta=0.2, penalty=2.0, tol=1e-8),
             "penalty, defaults (tol 1e-6)": lambda: solve(params, x, d, method="penalty"),
             "augmented, defaults (tol 1e-10)": lambda: solve(params, x, d,
                                                              method="augmented"),
             "descent-ascent, defaults (tol 1e-8)": lambda: solve(params, x, d,
                                                                  method="saddle")}
    iters = {name: (fn().iterations if name != "forward + costate pass" else 1)
             for name, fn in calls.items()}
    samples = rotating_samples(calls, repeats)
    return [{"method": name, "iterations": iters[name], "seconds": summary(samples[name])}
            for name in calls]


def fmt(t):
    if t is None:
        return "not reached"
    return f"{t:.3g} s" if t >= 1.0 else f"{1e3 * t:.3g} ms"


def markdown(res):
    m = res["machine"]
    lines = [f"Recorded on {m['date']} at commit {m['commit']}: {m['platform']}, "
             f"{m['cpus']} CPUs, Python {m['python']}, "
             f"NumPy {m['numpy']}, SciPy {m['scipy']}; single-threaded BLAS. Medians "
             f"(± interquartile range) of {res['repeats']} runs taken in rotation; load average "
             f"{res['load_average']:.1f} when the run started (a shared machine).", "",
             "### Training: time per iteration and to a tolerance", "",
             "| task | method | per iteration | iterations to 10 % of C(0) | time to 10 % "
             "| iterations to 1 % | time to 1 % | C after the run |",
             "|---|---|---|---|---|---|---|---|"]
    for r in res["training"]:
        s = r["seconds_per_iteration"]
        it = r["iterations_to"]
        lines.append(f"| {r['task']} | {r['method']} | {1e6 * s['median']:.0f} µs ± "
                     f"{1e6 * s['iqr']:.0f} | {it['0.1'] if it['0.1'] is not None else '-'} | "
                     f"{fmt(r['seconds_to']['0.1'])} | "
                     f"{it['0.01'] if it['0.01'] is not None else '-'} | "
                     f"{fmt(r['seconds_to']['0.01'])} | {r['final_cost']:.4f} |")
    lines += ["", "### Multipliers at fixed weights (3-4-4-2 tanh network, 5 patterns)", "",
              "Tolerances are relative: the residual at most tol * max(1, ||B||).", "",
              "| method | iterations | time |", "|---|---|---|"]
    for r in res["multipliers"]:
        s = r["seconds"]
        lines.append(f"| {r['method']} | {r['iterations']} | {fmt(s['median'])} ± "
                     f"{fmt(s['iqr'])} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args(argv)
    repeats = 3 if args.quick else 9
    res = {"machine": machine(), "repeats": repeats, "load_average": os.getloadavg()[0], "training": bench_training(repeats),
           "multipliers": bench_multipliers(repeats)}
    OUT_JSON.write_text(json.dumps(res, indent=1) + "\n")
    OUT_MD.write_text(markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
