"""The real-data experiments: MNIST-1D's published table and a digits ladder, by the costate pass.

One run::

    python benchmarks/experiments.py mnist1d --model {logistic,mlp,cnn} [--shuffle] --seed S
    python benchmarks/experiments.py digits --model {single,hidden,local,shared} --seed S

trains one model with lagprop's costate gradients (lagprop.classify, Adam from lagprop.optim)
and prints, as its last line, ``test_accuracy=0.xxxx``. ``--steps`` overrides the number of
training steps. The full set (every model, every seed; ``make experiments``)::

    python benchmarks/experiments.py all

writes the record ``experiments.json`` into the package (``companion/lagprop/records``,
read by the real-data chapter with ``lagprop.records.load("experiments")``) and
``benchmarks/experiments.md``: accuracies over the seeds with their spread, beside the
numbers published for MNIST-1D (Greydanus 2020), with the machine, the date, the commit
and the time taken. BLAS runs on one thread (small matrices; a shared machine).
"""

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import datetime as _dt  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from lagprop import classify, datasets, optim  # noqa: E402

import provenance  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT_JSON = provenance.record_path("experiments")
OUT_MD = ROOT / "benchmarks" / "experiments.md"

#: test accuracy published in the MNIST-1D README (Greydanus 2020)
PUBLISHED = {("logistic", False): 0.32, ("mlp", False): 0.68, ("cnn", False): 0.94,
             ("mlp", True): 0.68, ("cnn", True): 0.56}
#: the training of the MNIST-1D benchmark: Adam, learning rate 1e-2, batches of 100, 6000 steps
MNIST1D_TRAINING = dict(lr=1e-2, batch_size=100, steps=6000, eval_every=250)
#: the digits ladder: le Cun's (1989) small training set of 320, tanh units
DIGITS_TRAINING = dict(lr=1e-2, batch_size=32, steps=1500, eval_every=100, n_train=320)
SEEDS = (1, 2, 3, 4, 5)  # the book's chapter uses seed 0


def mnist1d_model(name):
    """The MNIST-1D benchmark's models: logistic regression, MLP 40-100-100-10, its CNN."""
    if name == "logistic":
        return classify.Dense([40, 10])
    if name == "mlp":
        return classify.Dense([40, 100, 100, 10], activation="relu")
    if name == "cnn":
        return classify.ConvNet()  # 3 x (25 channels, stride 2, padding 1), kernels 5, 3, 3
    raise ValueError(f"unknown model {name!r}")


def digits_model(name):
    """le Cun's (1989) ladder on 8 x 8 images: more structure, fewer free parameters."""
    from lagprop import sharing

    if name == "single":
        return classify.Dense([64, 10])
    if name == "hidden":
        return classify.Dense([64, 12, 10], activation="tanh")
    if name in ("local", "shared"):
        first = classify.conv2d_ties(8, 8, 3, n_filters=4, stride=1, shared=name == "shared")
        n = sharing.n_shared([first])
        return classify.TiedNet([first, sharing.dense_ties(10, first[0].shape[0], start=n)],
                                activation="tanh")
    raise ValueError(f"unknown model {name!r}")


def run(task, model, seed, *, shuffle=False, steps=None):
    """Train one model; returns a dict with the history and the final test accuracy."""
    if task == "mnist1d":
        cfg = dict(MNIST1D_TRAINING)
        data, net = datasets.mnist1d(shuffle=shuffle), mnist1d_model(model)
    else:
        cfg = dict(DIGITS_TRAINING)
        data = datasets.digits(n_train=cfg.pop("n_train"), seed=seed)
        net = digits_model(model)
    if steps is not None:
        cfg["steps"], cfg["eval_every"] = steps, max(1, min(cfg["eval_every"], steps))
    t0 = time.perf_counter()
    params, log = classify.train(net, data, optimizer=optim.Adam(cfg.pop("lr")), seed=seed,
                                 **cfg)
    return {"n_params": net.n_params, "seconds": time.perf_counter() - t0,
            "test_accuracy": float(log.test_accuracy[-1]), "step": log.iteration.tolist(),
            "curve": [round(a, 4) for a in log.test_accuracy.tolist()],
            "train_loss": [round(c, 5) for c in log.train_loss.tolist()], "params": params}


def conv_timing(repeats=200):
    """Seconds per gradient (forward + costate) of the CNN's three convolutions on a batch of
    100, median over ``repeats``; beside torch's conv1d autograd when torch is installed,
    the two called in rotation."""
    from lagprop import sharing

    rng = np.random.default_rng(0)
    shapes = [(1, 40, 25, 5), (25, 19, 25, 3), (25, 10, 25, 3)]  # (C, n, F, K), stride 2, pad 1
    xs = [rng.standard_normal((100, C, n)) for C, n, F, K in shapes]
    vs = [rng.standard_normal((F, C, K)) for C, n, F, K in shapes]
    bs = [np.zeros(F) for C, n, F, K in shapes]

    def ours():
        for x, v, b in zip(xs, vs, bs):
            A = sharing.conv1d(x, v, b, stride=2, padding=1)
            sharing.conv1d_costate(x, v, A, stride=2, padding=1)

    def samples(fns):  # the calls in rotation, so that every one sees the same machine load
        for fn in fns:
            fn()
        t = [[] for _ in fns]
        for _ in range(repeats):
            for fn, ti in zip(fns, t):
                t0 = time.perf_counter()
                fn()
                ti.append(time.perf_counter() - t0)
        return [float(np.median(ti)) for ti in t]

    out = {"lagprop_seconds": samples([ours])[0], "torch_seconds": None,
           "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "commit": provenance.commit()}
    try:
        import torch
    except ImportError:
        return out
    torch.set_num_threads(1)
    tx = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    tv = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in vs]
    tb = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in bs]

    def theirs():
        for x, v, b in zip(tx, tv, tb):
            A = torch.nn.functional.conv1d(x, v, b, stride=2, padding=1)
            A.backward(A.detach())

    out["lagprop_seconds"], out["torch_seconds"] = samples([ours, theirs])
    out["torch_version"] = torch.__version__
    return out


def machine():
    import scipy

    return {"python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "numpy": np.__version__, "scipy": scipy.__version__, "blas_threads": 1}


def spread(acc):
    a = np.asarray(acc)
    return {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if a.size > 1 else 0.0,
            "min": float(a.min()), "max": float(a.max())}


def run_all(seeds=SEEDS, steps=None):
    start = time.perf_counter()
    out = {"date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "commit": provenance.commit(), "machine": machine(), "seeds": list(seeds),
           "mnist1d_training": dict(MNIST1D_TRAINING), "digits_training": dict(DIGITS_TRAINING),
           "mnist1d": [], "digits": []}
    if steps is not None:
        out["mnist1d_training"]["steps"] = out["digits_training"]["steps"] = steps
    for model, shuffle in [("logistic", False), ("mlp", False), ("cnn", False), ("mlp", True),
                           ("cnn", True)]:
        runs = [run("mnist1d", model, s, shuffle=shuffle, steps=steps) for s in seeds]
        row = {"model": model, "shuffled": shuffle, "published": PUBLISHED[(model, shuffle)],
               "n_params": runs[0]["n_params"], "test_accuracy": [r["test_accuracy"] for r in runs],
               "seconds": [round(r["seconds"], 2) for r in runs], "step": runs[0]["step"],
               "curve": runs[0]["curve"], "train_loss": runs[0]["train_loss"]}
        row.update(spread(row["test_accuracy"]))
        if model == "cnn":  # the first layer's 25 kernels of the first seed, for the figure
            row["filters"] = np.round(runs[0]["params"][0][0][:, 0, :], 4).tolist()
        out["mnist1d"].append(row)
        print(f"mnist1d {model:8s} shuffled={shuffle!s:5s} {row['mean']:.4f} +- {row['std']:.4f}",
              flush=True)
    for model in ("single", "hidden", "local", "shared"):
        runs = [run("digits", model, s, steps=steps) for s in seeds]
        row = {"model": model, "n_params": runs[0]["n_params"],
               "test_accuracy": [r["test_accuracy"] for r in runs],
               "seconds": [round(r["seconds"], 2) for r in runs]}
        row.update(spread(row["test_accuracy"]))
        out["digits"].append(row)
        print(f"digits  {model:8s} {row['n_params']:5d} params {row['mean']:.4f} +- {row['std']:.4f}",
              flush=True)
    out["total_seconds"] = round(time.perf_counter() - start, 1)
    out["conv_timing"] = conv_timing()
    return out


def markdown(res):
    m = res["machine"]
    lines = [f"Recorded {res['date']} at commit {res['commit']} on {m['processor']}, "
             f"{m['cpus']} CPUs, {m['platform']}, "
             f"Python {m['python']}, NumPy {m['numpy']} (one BLAS thread); "
             f"{res['total_seconds']:.0f} s of wall-clock time in all (a shared machine). Seeds {res['seeds']}; "
             f"MNIST-1D: Adam, lr {res['mnist1d_training']['lr']}, batches of "
             f"{res['mnist1d_training']['batch_size']}, {res['mnist1d_training']['steps']} steps.",
             "", "| MNIST-1D model | free parameters | test accuracy (mean +- sd) | min - max "
             "| published |", "|---|---:|---:|---:|---:|"]
    for r in res["mnist1d"]:
        name = r["model"] + (" (shuffled)" if r["shuffled"] else "")
        lines.append(f"| {name} | {r['n_params']} | {r['mean']:.3f} +- {r['std']:.3f} | "
                     f"{r['min']:.3f} - {r['max']:.3f} | {r['published']:.2f} |")
    lines += ["", f"Digits (8 x 8, {res['digits_training']['n_train']} training images, "
              f"{res['digits_training']['steps']} steps of Adam):", "",
              "| digits net | free parameters | test accuracy (mean +- sd) | min - max |",
              "|---|---:|---:|---:|"]
    for r in res["digits"]:
        lines.append(f"| {r['model']} | {r['n_params']} | {r['mean']:.3f} +- {r['std']:.3f} | "
                     f"{r['min']:.3f} - {r['max']:.3f} |")
    ct = res.get("conv_timing")
    if ct:
        lines += ["", f"Gradient of the CNN's three convolutions (forward and costate, batch of "
                  f"100, one thread; timed {ct['date']} at commit {ct['commit']}): "
                  f"{1e3 * ct['lagprop_seconds']:.2f} ms with lagprop's "
                  "im2col kernel; " + (f"{1e3 * ct['torch_seconds']:.2f} ms with torch's conv1d "
                  f"autograd (torch {ct.get('torch_version', '?')}, float64; ratio "
                  f"{ct['lagprop_seconds'] / ct['torch_seconds']:.2f})." if ct["torch_seconds"] else "torch is not installed here, so "
                  "there is no comparison with its conv1d autograd.")]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("task", choices=["mnist1d", "digits", "all", "conv-timing"])
    ap.add_argument("--model", choices=["logistic", "mlp", "cnn", "single", "hidden", "local", "shared"])
    ap.add_argument("--shuffle", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--markdown-only", action="store_true",
                    help="with all: rewrite experiments.md from the recorded experiments.json")
    args = ap.parse_args(argv)
    if args.task == "conv-timing":  # re-time the convolution only, into the record
        res = json.loads(OUT_JSON.read_text())
        res["conv_timing"] = conv_timing()
        OUT_JSON.write_text(json.dumps(res, indent=1) + "\n")
        OUT_MD.write_text(markdown(res))
        print(res["conv_timing"])
        return 0
    if args.task == "all" and args.markdown_only:
        OUT_MD.write_text(markdown(json.loads(OUT_JSON.read_text())))
        return 0
    if args.task == "all":
        res = run_all(steps=args.steps)
        OUT_JSON.write_text(json.dumps(res, indent=1) + "\n")
        OUT_MD.write_text(markdown(res))
        print(f"wrote {OUT_JSON.relative_to(ROOT)} and {OUT_MD.relative_to(ROOT)}")
        print(f"test_accuracy={res['mnist1d'][2]['mean']:.4f}")  # the CNN's mean
        return 0
    ok = {"mnist1d": ("logistic", "mlp", "cnn"), "digits": ("single", "hidden", "local", "shared")}
    if args.model not in ok[args.task]:
        ap.error(f"--model must be one of {ok[args.task]} for {args.task}")
    r = run(args.task, args.model, args.seed, shuffle=args.shuffle, steps=args.steps)
    print(f"free parameters={r['n_params']} seconds={r['seconds']:.1f}")
    print(f"test_accuracy={r['test_accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
