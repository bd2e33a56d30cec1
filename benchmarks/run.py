"""Reproducible speed and accuracy measurements of lagprop and of the book.

Run from the repository root with ``make benchmarks`` (or ``.venv/bin/python benchmarks/run.py``).
It writes the record ``results.json`` into the package (``companion/lagprop/records``,
read with ``lagprop.records.load("results")``: the recurrent chapter draws from it) and
``benchmarks/results.md``; the book's benchmarks appendix shows the Markdown table.
Times are medians over repeated runs, reported with their spread (the interquartile
range); the machine they came from is recorded with them.

Every record names the commit it measured (``git rev-parse HEAD``, marked "with uncommitted
changes" when the tree differs from it, or the value of ``--commit`` when the tree is an export
without ``.git``) and the machine's load average, since the machine may be shared.

Options: ``--quick`` (fewer repeats, for a smoke run), ``--skip-book`` (do not time the chapters
again; the last recorded chapter times are kept), ``--book-only`` (time only the chapters; the
other sections keep their last record, each with the date and commit it came from),
``--commit SHA`` (the commit of an exported tree), ``--rounds N`` (rounds over the chapters).
"""

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import provenance

ROOT = Path(__file__).resolve().parents[1]
OUT_JSON = provenance.record_path("results")  # lagprop.records.load("results")
OUT_MD = ROOT / "benchmarks" / "results.md"
TOC = ROOT / "_toc.yml"


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


def commit(override=None):
    """The commit the measured tree comes from, and whether the tree differs from it."""
    return provenance.commit(override, full=True)


def machine(sha=None):
    import scipy

    info = {
        "date": _dt.date.today().isoformat(),
        "commit": commit(sha),
        "load_average_1min": round(os.getloadavg()[0], 2),
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


def toc_chapters():
    """The chapter notebooks listed in ``_toc.yml``, in the book's order (appendix pages are not
    notebooks and are left out)."""
    import yaml

    toc = yaml.safe_load(TOC.read_text())
    files = []

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                files.append(e["file"])
            walk(e.get("sections"))
            walk(e.get("chapters"))

    walk(toc.get("parts"))
    return [f + ".ipynb" for f in files if (ROOT / (f + ".ipynb")).exists()]


def bench_book(repeats):
    """Wall time of ``nice jupyter nbconvert --execute`` on each chapter, one at a time.

    The time includes starting the kernel, as a reader's ``nbconvert`` run would; the chapters
    run one after another (never in parallel), ``repeats`` rounds, so a shared machine's drift
    reaches all of them alike.
    """
    jupyter = Path(sys.executable).with_name("jupyter")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONPATH"] = str(ROOT / "companion")
    chapters = toc_chapters()
    samples = {c: [] for c in chapters}
    cpu = {c: [] for c in chapters}
    load = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(repeats):
            for chapter in chapters:
                nb = ROOT / chapter
                load.append(os.getloadavg()[0])
                c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                subprocess.run(["nice", "-n", "10", str(jupyter), "nbconvert", "--to", "notebook",
                                "--execute", "--output-dir", out, "--output", nb.stem, str(nb)],
                               cwd=nb.parent, env=env, check=True, capture_output=True)
                samples[chapter].append(time.perf_counter() - t0)
                c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[chapter].append(c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime)
    bench_book.load = {"min": float(np.min(load)), "median": float(np.median(load)),
                       "max": float(np.max(load))}
    return [{"chapter": c, "time_s": summary(np.array(samples[c])),
             "cpu_s": summary(np.array(cpu[c]))} for c in chapters]


# --------------------------------------------------------------------------------------------


def fmt(t):
    return "n/a" if t is None else f"{t['median'] * 1e3:.2f} ms ± {t['iqr'] * 1e3:.2f}"


def describe(m):
    """One sentence naming the date, commit, machine and load of a record."""
    load = (f"; 1-minute load average {m['load_average_1min']:g} on {m['cpus']} CPUs when it "
            "started (a shared machine: other work ran at the same time)"
            if "load_average_1min" in m else "")
    return (f"Recorded on {m['date']} at commit {m.get('commit', 'not recorded')}: {m['platform']}, "
            f"{m['cpus']} CPUs, Python {m['python']}, NumPy {m['numpy']}, SciPy {m['scipy']}"
            + (f", BLAS {', '.join(m['blas'])}" if m.get("blas") else "") + load + ".")


def markdown(res):
    m = res["machine"]
    lines = [
        describe(m),
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
        mb = res.get("book_machine", m)
        lb = res.get("book_load")
        during = (f" The 1-minute load average during the runs ranged from {lb['min']:.1f} to "
                  f"{lb['max']:.1f} (median {lb['median']:.1f}), so the wall times include "
                  "waiting for the CPU; the CPU time (user and system, of nbconvert and its "
                  "kernel) depends much less on the load." if lb else "")
        has_cpu = all("cpu_s" in r for r in res["book"])
        lines += ["", "## Executing the book", "",
                  describe(mb) + f" Each chapter of `_toc.yml` ({len(res['book'])}) ran under "
                  "`nice jupyter nbconvert --execute`, one at a time, "
                  f"{res['book'][0]['time_s']['repeats']} rounds; the time includes starting the "
                  "kernel." + during, "",
                  "| chapter | wall time | CPU time |" if has_cpu else "| chapter | time |",
                  "|---|---|---|" if has_cpu else "|---|---|"]
        for r in res["book"]:
            row = f"| `{r['chapter']}` | {r['time_s']['median']:.1f} s ± {r['time_s']['iqr']:.1f} |"
            if has_cpu:
                row += f" {r['cpu_s']['median']:.1f} s ± {r['cpu_s']['iqr']:.1f} |"
            lines.append(row)
        if has_cpu:
            cpu_total = sum(r["cpu_s"]["median"] for r in res["book"])
            lines.append(f"| **all chapters** | **{total:.1f} s** | **{cpu_total:.1f} s** |")
        else:
            lines.append(f"| **all chapters** | **{total:.1f} s** |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--skip-book", action="store_true", help="do not time the chapters")
    ap.add_argument("--book-only", action="store_true",
                    help="time only the chapters; keep the other sections' last record")
    ap.add_argument("--commit", help="the commit of an exported tree without .git")
    ap.add_argument("--rounds", type=int, default=3, help="rounds over the chapters (default 3)")
    args = ap.parse_args(argv)
    reps = 5 if args.quick else 21
    if args.book_only:
        res = json.loads(OUT_JSON.read_text())
        print("book ...", flush=True)
        res["book_machine"] = machine(args.commit)
        res["book"] = bench_book(1 if args.quick else args.rounds)
        res["book_load"] = bench_book.load
        OUT_JSON.write_text(json.dumps(res, indent=2) + "\n")
        OUT_MD.write_text(markdown(res))
        print(markdown(res))
        return 0
    res = {"machine": machine(args.commit)}
    print("gradient cost ...", flush=True)
    res["gradient_cost"] = bench_gradient_cost(reps)
    print("recurrent ...", flush=True)
    res["recurrent"] = bench_recurrent(reps)
    print("dynamics ...", flush=True)
    res["dynamics"] = bench_dynamics(reps)
    if not args.skip_book:
        print("book ...", flush=True)
        res["book"] = bench_book(1 if args.quick else args.rounds)
        res["book_load"] = bench_book.load
    elif OUT_JSON.exists():  # keep the chapters' last recorded times, with their own record
        old = json.loads(OUT_JSON.read_text())
        res["book"] = old.get("book")
        res["book_machine"] = old.get("book_machine", old["machine"])
        res["book_load"] = old.get("book_load")
    OUT_JSON.write_text(json.dumps(res, indent=2) + "\n")
    OUT_MD.write_text(markdown(res))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
