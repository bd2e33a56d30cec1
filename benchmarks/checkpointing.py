"""Timings of binomial checkpointing (``Graph.checkpointed_gradient``) against plain.

Run from the repository root: ``.venv/bin/python benchmarks/checkpointing.py`` (about
six minutes; ``--quick`` for a smoke run). It writes the record ``checkpointing.json``
into the package (``companion/lagprop/records``, read with
``lagprop.records.load("checkpointing")``) and ``benchmarks/checkpointing.md``, with the
date, the machine and the commit.

The chain is long and its steps are cheap, so that planning and bookkeeping weigh most:
``l`` scalar tanh layers with one tied weight and bias, an output at the end. For each
length ``l`` and number of slots ``s`` it records

* the *work ratio*, node evaluations of the checkpointed sweep over those of the plain
  forward pass, ``(advances + l) / l``, with ``advances`` Griewank's count
  (``checkpoint.binomial_advances``);
* the *time ratio*, seconds of ``checkpointed_gradient`` over seconds of ``gradient``
  (one forward pass storing every state, one costate pass), both timed in rotation so
  that they see the same load;
* the seconds spent planning alone (iterating ``checkpoint.schedule``).

The goal is a time ratio within 3 times the work ratio up to ``l = 10**5``: the plan and
the slot store must not add more than the recomputations themselves. Times are medians
over repeats; single-threaded linear algebra.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import datetime as _dt  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from lagprop import checkpoint, graph  # noqa: E402

import provenance  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT_JSON = provenance.record_path("checkpointing")
OUT_MD = ROOT / "benchmarks" / "checkpointing.md"
GOAL = 3.0


def chain(l):
    """``l`` scalar tanh layers h_t = tanh(W h_{t-1} + U u + b) sharing W, U, b."""
    g = graph.Graph()
    g.input("u", 1)
    g.layer("h1", "u", "U", width=1, activation="tanh")
    for t in range(2, l + 1):
        g.layer(
            f"h{t}",
            [f"h{t - 1}", "u"],
            ["W", "U"],
            bias="b",
            width=1,
            activation="tanh",
        )
    g.output(f"h{l}")
    return g


def rotating(fns, repeats):
    """Call each function once per round; raw seconds per call."""
    out = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            out[k].append(time.perf_counter() - t0)
    return {k: float(np.median(v)) for k, v in out.items()}


def measure(l, s, repeats):
    g = chain(l)
    w = g.init_params(seed=0, scale=0.9)
    u, d = {"u": np.ones((1, 1))}, {f"h{l}": np.zeros((1, 1))}
    C, G = g.gradient(w, u, d)
    r = g.checkpointed_gradient(w, u, d, checkpoints=s)  # also a warm-up
    assert abs(r.cost - C) <= 1e-12 * max(1.0, C)
    assert all(np.allclose(r.grads[k], G[k], rtol=1e-10, atol=1e-14) for k in G)
    assert r.advances == checkpoint.binomial_advances(l, s) and r.peak_states <= s
    t = rotating(
        {
            "plain": lambda: g.gradient(w, u, d),
            "checkpointed": lambda: g.checkpointed_gradient(w, u, d, checkpoints=s),
            "plan": lambda: sum(1 for _ in checkpoint.schedule(l, s)),
        },
        repeats,
    )
    work = (r.advances + l) / l
    ratio = t["checkpointed"] / t["plain"]
    return {
        "l": l,
        "s": s,
        "advances": r.advances,
        "peak_states": r.peak_states,
        "work_ratio": work,
        "plain_s": t["plain"],
        "checkpointed_s": t["checkpointed"],
        "plan_s": t["plan"],
        "time_ratio": ratio,
        "time_over_work": ratio / work,
    }


def commit():
    return provenance.commit()


def write(rows, quick):
    meta = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, NumPy {np.__version__}",
        "commit": commit(),
        "quick": quick,
    }
    OUT_JSON.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    worst = max(r["time_over_work"] for r in rows)
    lines = [
        "# Binomial checkpointing: measured times",
        "",
        f"Recorded {meta['date']} at commit `{meta['commit']}` on {meta['machine']}, "
        "single-threaded BLAS (`benchmarks/checkpointing.py`"
        + (", `--quick`" if quick else "")
        + ").",
        "",
        "A chain of `l` scalar tanh layers with tied weights. *Work ratio*: node "
        "evaluations of the checkpointed sweep over those of one forward pass, "
        "`(advances + l) / l`, with Griewank's count of advances. *Time ratio*: "
        "seconds of `checkpointed_gradient` over seconds of `gradient` (which stores "
        "every "
        "state), medians of runs in rotation. *Plan*: seconds to iterate "
        "`checkpoint.schedule` alone.",
        "",
        "| l | s | advances | work ratio | gradient (s) | checkpointed (s) | plan (s) "
        "| time ratio | time / work |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['l']} | {r['s']} | {r['advances']} | {r['work_ratio']:.2f} "
            f"| {r['plain_s']:.4f} | {r['checkpointed_s']:.4f} | {r['plan_s']:.4f} "
            f"| {r['time_ratio']:.2f} | {r['time_over_work']:.2f} |"
        )
    lines += [
        "",
        f"Largest time ratio over work ratio: {worst:.2f} (goal: at most {GOAL:g}). "
        "The time ratio is below the work ratio because the costate steps, which both "
        "methods take once per node, and the plain gradient's handling of every stored "
        "state weigh as much as the evaluations; the plan and the slot store add the "
        "rest.",
        "",
    ]
    OUT_MD.write_text("\n".join(lines))
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small chains, one repeat")
    args = parser.parse_args()
    if args.quick:
        cases, repeats = [(1000, 10), (4000, 50)], 1
    else:
        cases = [
            (1000, 10),
            (4000, 50),
            (10_000, 20),
            (10_000, 100),
            (100_000, 50),
            (100_000, 200),
        ]
        repeats = 3
    rows = []
    for l, s in cases:
        rows.append(measure(l, s, repeats if l < 100_000 else 1))
        r = rows[-1]
        print(
            f"l = {l:>6} s = {s:>3}: work {r['work_ratio']:.2f}, "
            f"time {r['time_ratio']:.2f}, "
            f"time/work {r['time_over_work']:.2f} (plan {r['plan_s']:.2f} s)",
            flush=True,
        )
    worst = write(rows, args.quick)
    print(f"worst time/work {worst:.2f}; wrote {OUT_MD.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
