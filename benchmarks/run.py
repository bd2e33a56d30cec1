"""Reproducible speed and accuracy measurements of lagprop and of the book.

Run from the repository root with ``make benchmarks`` (or ``.venv/bin/python benchmarks/run.py``).
It writes ``benchmarks/results.json`` and ``benchmarks/results.md``; the book's benchmarks
appendix shows the Markdown table. Times are medians over repeated runs, reported with their
spread (the interquartile range); the machine they came from is recorded with them.

Options: ``--quick`` (fewer repeats, for a smoke run), ``--skip-book`` (do not time the chapters
again; the last recorded chapter times are kept).
"""

import argparse
import datetime as _dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT_JSON = ROOT / "benchmarks" / "results.json"
OUT_MD = ROOT / "benchmarks" / "results.md"


def summary(samples):
    """Median and interquartile range (seconds) of timing samples."""
    q1, med, q3 = np.percentile(samples, [25, 50, 75])
    return {"median": float(med), "iqr": float(q3 - q1), "repeats": len(samples)}


def rotating_samples(fns, repeats):
    """Call each of ``fns`` (a dict) once per round, ``repeats`` rounds after a warm-up; raw seconds.

    Taking the calls in rotation exposes all of them to the same drift of a shared machine, so
    their comparison (or the ratio of paired samples) is steadier than separate measurements.
    """
    for fn in fns.values():
        fn()
    samples = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t0)
    return {name: np.array(t) for name, t in samples.items()}


def timeit(fn, repeats):
    """Median and interquartile range of ``repeats`` calls of ``fn`` after one warm-up."""
    return summary(rotating_samples({"fn": fn}, repeats)["fn"])


def machine():
    import scipy

    info = {
        "date": _dt.date.today().isoformat(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = sorted({f"{d.get('internal_api')} ({d.get('num_threads')} threads)" for d in threadpool_info()})
    except ImportError:
        pass
    return info


# --------------------------------------------------------------------------------------------
# 1. The cost of a gradient: forward + costate pass over forward alone


def bench_gradient_cost(repeats):
    from lagprop import lagrangian, mlp

    rows = []
    rng = np.random.default_rng(0)
    for sizes, batch in [([64, 64, 10], 256), ([256, 256, 256, 10], 256), ([784, 512, 512, 10], 256)]:
        params = mlp.init_params(sizes, seed=0)
        x = rng.standard_normal((batch, sizes[0]))
        d = rng.standard_normal((batch, sizes[-1]))
        t = rotating_samples({"forward": lambda: lagrangian.forward(params, x),
                              "gradient": lambda: lagrangian.backprop(params, x, d)}, 3 * repeats)
        row = {"network": "-".join(map(str, sizes)), "batch": batch, "forward_s": summary(t["forward"]),
               "gradient_s": summary(t["gradient"]), "ratio": float(np.median(t["gradient"] / t["forward"]))}
        row.update(_autograd_baselines(sizes, batch, repeats))
        rows.append(row)
    return rows


def _autograd_baselines(sizes, batch, repeats):
    """torch / jax autograd on the same network, when importable (they are not dependencies)."""
    out = {}
    try:
        import torch

        torch.manual_seed(0)
        Ws = [torch.randn(o, i, dtype=torch.float64, requires_grad=True) for i, o in zip(sizes[:-1], sizes[1:])]
        bs = [torch.zeros(o, dtype=torch.float64, requires_grad=True) for o in sizes[1:]]
        x = torch.randn(batch, sizes[0], dtype=torch.float64)
        d = torch.randn(batch, sizes[-1], dtype=torch.float64)

        def fwd():
            h = x
            for k, (W, b) in enumerate(zip(Ws, bs)):
                h = h @ W.T + b
                if k < len(Ws) - 1:
                    h = torch.tanh(h)
            return ((d - h) ** 2).sum()

        def grad():
            torch.autograd.grad(fwd(), Ws + bs)

        with torch.no_grad():
            tf = timeit(fwd, repeats)
        tg = timeit(grad, repeats)
        out["torch_ratio"] = tg["median"] / tf["median"]
    except ImportError:
        pass
    return out


# --------------------------------------------------------------------------------------------
# 2. Pineda-Almeida: three ways to the same gradient, and method="auto"


def bench_recurrent(repeats):
    from lagprop import recurrent

    rows = []
    for n in [10, 30, 100, 300]:
        rng = np.random.default_rng(n)
        W = rng.standard_normal((n, n)) * (0.5 / np.sqrt(n))
        u = rng.standard_normal(n)
        outputs = np.arange(min(3, n))
        targets = 0.5 * np.ones(outputs.size)
        calls = {
            method: (lambda method=method, kw=kw: recurrent.gradient(W, u, targets, outputs, method=method, **kw))
            for method, kw in [("relaxation", {}), ("solve", {}), ("bptt", {"steps": 60}), ("auto", {})]
        }
        row = {"n": n, **{m: summary(t) for m, t in rotating_samples(calls, 3 * repeats).items()}}
        fastest = min(row[m]["median"] for m in ("relaxation", "solve"))  # the exact methods
        row["auto_over_fastest"] = row["auto"]["median"] / fastest
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------
# 3. Exact impulsive solution against scipy's mollified integration at matched accuracy


def bench_dynamics(repeats):
    from lagprop import dynamics

    m, K = 5, 200
    rng = np.random.default_rng(1)
    A = rng.standard_normal((m, m))
    H = A @ A.T / m + np.eye(m)
    targets = rng.standard_normal((K, m))
    times = 1.0 + np.arange(K) * 1.0

    def grad(k, w):
        return H @ (w - targets[k])

    w0 = np.zeros(m)
    beta, mu, eps = 2.0, 1.0, 1e-3
    exact = dynamics.simulate_impulses(grad, times, w0, beta=beta, mu=mu)
    mol = dynamics.simulate_mollified(grad, times, w0, beta=beta, mu=mu, eps=eps, t_end=times[-1] + 1.0)
    w_exact_end, _ = exact.at(times[-1] + 1.0)
    gap = float(np.max(np.abs(mol.w[-1] - np.asarray(w_exact_end).reshape(-1))))
    r = max(1, repeats // 5)
    return {
        "impulses": K, "weights": m, "eps": eps, "final_gap": gap,
        "exact_s": timeit(lambda: dynamics.simulate_impulses(grad, times, w0, beta=beta, mu=mu), repeats),
        "mollified_s": timeit(lambda: dynamics.simulate_mollified(grad, times, w0, beta=beta, mu=mu, eps=eps,
                                                                  t_end=times[-1] + 1.0), r),
    }


# --------------------------------------------------------------------------------------------
# 4. The book: execution time of each chapter


def bench_book(repeats):
    import nbformat
    from nbclient import NotebookClient

    rows = []
    for nb_path in sorted((ROOT / "book").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in nb_path.parts:
            continue

        def run():
            nb = nbformat.read(nb_path, as_version=4)
            NotebookClient(nb, timeout=120, kernel_name="python3",
                           resources={"metadata": {"path": str(nb_path.parent)}}).execute()

        rows.append({"chapter": nb_path.relative_to(ROOT).as_posix(), "time_s": timeit(run, repeats)})
    return rows


# --------------------------------------------------------------------------------------------


def fmt(t):
    return "n/a" if t is None else f"{t['median'] * 1e3:.2f} ms ± {t['iqr'] * 1e3:.2f}"


def markdown(res):
    m = res["machine"]
    lines = [
        f"Recorded on {m['date']}: {m['platform']}, {m['cpus']} CPUs, Python {m['python']}, "
        f"NumPy {m['numpy']}, SciPy {m['scipy']}" + (f", BLAS {', '.join(m['blas'])}" if m.get("blas") else "") + ".",
        "Times are medians ± interquartile range.",
        "",
        "## The cost of a gradient",
        "",
        "| network | batch | forward | forward + costate | ratio (median of paired runs) | torch autograd ratio |",
        "|---|---|---|---|---|---|",
    ]
    for r in res["gradient_cost"]:
        torch_ratio = f"{r['torch_ratio']:.2f}" if "torch_ratio" in r else "not installed"
        lines.append(f"| {r['network']} | {r['batch']} | {fmt(r['forward_s'])} | {fmt(r['gradient_s'])} | "
                     f"{r['ratio']:.2f} | {torch_ratio} |")
    if res.get("recurrent"):
        lines += ["", "## Pineda-Almeida: three ways to the same gradient", "",
                  "| units | relaxation | solve | BPTT (60 steps, approximate) | auto | auto / faster exact method |", "|---|---|---|---|---|---|"]
        for r in res["recurrent"]:
            ratio = f"{r['auto_over_fastest']:.2f}" if "auto_over_fastest" in r else "n/a"
            lines.append(f"| {r['n']} | {fmt(r['relaxation'])} | {fmt(r['solve'])} | {fmt(r['bptt'])} | "
                         f"{fmt(r['auto'])} | {ratio} |")
    if res.get("dynamics"):
        d = res["dynamics"]
        lines += ["", "## Exact impulsive solution against scipy's mollified integration", "",
                  f"{d['impulses']} supervisions of {d['weights']} weights, mollifier half-width {d['eps']:g}; "
                  f"largest gap between the two final positions {d['final_gap']:.1e}.", "",
                  "| exact (closed form between impulses) | mollified (DOP853, window by window) | speed-up |",
                  "|---|---|---|",
                  f"| {fmt(d['exact_s'])} | {fmt(d['mollified_s'])} | "
                  f"{d['mollified_s']['median'] / d['exact_s']['median']:.0f}x |"]
    if res.get("book"):
        total = sum(r["time_s"]["median"] for r in res["book"])
        lines += ["", "## Executing the book", "", "| chapter | time |", "|---|---|"]
        lines += [f"| `{r['chapter']}` | {r['time_s']['median']:.1f} s ± {r['time_s']['iqr']:.1f} |" for r in res["book"]]
        lines.append(f"| **all chapters** | **{total:.1f} s** |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--skip-book", action="store_true", help="do not time the chapters")
    args = ap.parse_args(argv)
    reps = 5 if args.quick else 21
    res = {"machine": machine()}
    print("gradient cost ...", flush=True)
    res["gradient_cost"] = bench_gradient_cost(reps)
    print("recurrent ...", flush=True)
    res["recurrent"] = bench_recurrent(reps)
    print("dynamics ...", flush=True)
    res["dynamics"] = bench_dynamics(reps)
    if not args.skip_book:
        print("book ...", flush=True)
        res["book"] = bench_book(1 if args.quick else 3)
    elif OUT_JSON.exists():  # keep the chapters' last recorded times
        res["book"] = json.loads(OUT_JSON.read_text()).get("book")
    OUT_JSON.write_text(json.dumps(res, indent=2) + "\n")
    OUT_MD.write_text(markdown(res))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
