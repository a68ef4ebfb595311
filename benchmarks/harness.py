"""Timing and memory helpers shared by the benchmark scripts.

Times: every model is timed in one process, in turn, rotating the order each repetition, so a
slow spell of a shared machine falls on every model alike; a model's time is its minimum over
the repetitions (noise only ever adds time). Peak memory: a step runs once in a fresh process
(a worker started by :func:`run_worker`), and its peak is the max RSS above what the process
held before the step.

Results: every benchmark takes ``--record PATH`` (:func:`benchmark_parser`) and writes its rows
there as a result record (:func:`save_record`, :mod:`asteroid_deepmask.utils.result_records`): the
JSON that the docs' tables and plots and the README's numbers are made from.
"""
import json
import os
import resource
import subprocess
import sys
import time


def max_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def separate_step(model, n_samples):
    """A closure separating one random mono clip of ``n_samples`` without gradients."""
    import torch

    model.eval()
    wav = torch.randn(1, n_samples)

    def step():
        with torch.no_grad():
            model(wav)

    return step


def rotations(names, reps):
    """The order of ``names`` in each of ``reps`` rounds, rotated by one each round."""
    for rep in range(reps):
        shift = rep % len(names)
        yield names[shift:] + names[:shift]


def interleaved_min_times(steps, reps):
    """Minimum time of each closure in ``steps`` (name -> closure) over ``reps`` rotating rounds."""
    names = list(steps)
    for name in names:
        steps[name]()  # warm-up
    times = {name: [] for name in names}
    for order in rotations(names, reps):
        for name in order:
            start = time.perf_counter()
            steps[name]()
            times[name].append(time.perf_counter() - start)
    return {name: min(t) for name, t in times.items()}


def peak_mib(step):
    """Peak memory of one call of ``step`` above what the process held before it (MiB)."""
    before = max_rss_mib()
    step()
    return max_rss_mib() - before


def rss_mib():
    """The process's resident memory now (MiB), from ``/proc/self/statm``."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def sampled_peak_mib(step, interval=0.001):
    """Highest resident memory during one call of ``step`` above the resident memory just before
    it (MiB), sampled every ``interval`` seconds by a thread (torch and ONNX Runtime release the
    GIL while they compute). Unlike :func:`peak_mib`, a high-water mark reached before the step
    (imports, model loading) does not hide the step's own memory."""
    import threading

    before, peak, done = rss_mib(), [0.0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_mib())
            done.wait(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        step()
    finally:
        done.set()
        thread.join()
    return max(peak[0], rss_mib()) - before


def onnx_op_ms(path, run, providers=("CPUExecutionProvider",), options=None):
    """Milliseconds per ONNX operator type (a ``Counter``) over the calls ``run(session)`` makes on a
    profiling session of the ONNX file ``path`` (ONNX Runtime's profiler, its kernel times)."""
    from collections import Counter

    import onnxruntime as ort

    options = options or ort.SessionOptions()
    options.enable_profiling = True
    session = ort.InferenceSession(path, options, providers=list(providers))
    run(session)
    profile = session.end_profiling()
    with open(profile) as f:
        events = json.load(f)
    os.remove(profile)
    times = Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            times[e["args"]["op_name"]] += e["dur"] / 1000
    return times


def torch_op_ms(run):
    """Milliseconds of self CPU time per torch operator (a ``Counter``) over one call of ``run()``."""
    from collections import Counter

    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    times = Counter()
    for event in prof.key_averages():
        times[event.key] += event.self_cpu_time_total / 1000
    return times


def top_shares(times, calls, count=6):
    """The ``count`` largest of ``times`` (name -> ms over ``calls`` calls): ``[(name, ms per call, share)]``."""
    total = sum(times.values())
    return [(name, ms / calls, ms / total) for name, ms in times.most_common(count)]


def run_worker(script, *args):
    """Run ``script --worker ARGS`` in a fresh process; return the JSON of its last line."""
    cmd = [sys.executable, script, "--worker", *map(str, args)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def benchmark_parser(doc, worker_nargs=None):
    """A benchmark's argument parser: the first paragraph of its docstring ``doc`` as description,
    ``--record PATH``, and, for a benchmark whose steps run in worker processes (:func:`run_worker`),
    the ``--worker`` arguments (``worker_nargs`` of them) those processes are started with."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--record", metavar="PATH",
                        help="also write the results as a result record (JSON) to PATH; the docs show those "
                             "in docs/results/ (scripts/measure_docs_results.sh)")
    if worker_nargs is not None:
        parser.add_argument("--worker", nargs=worker_nargs, help=argparse.SUPPRESS)
    return parser


def save_record(path, name, rows, **extra):
    """Write ``rows`` (dicts whose keys carry their units: ``time_s``, ``peak_mib``, ...) and ``extra``
    fields as the record ``name`` to ``path``, with the date, command, versions and host; nothing
    when ``path`` is None. Returns the record (or None)."""
    if not path:
        return None
    from asteroid_deepmask.utils.result_records import make_record, write_record

    record = make_record(name, rows, **extra)
    write_record(path, record)
    print(f"\nrecord written to {path} ({len(record['rows'])} rows, host: {record['host']['kind']})", file=sys.stderr)
    return record


def share_rows(shares, what="op"):
    """:func:`top_shares`' tuples as rows: ``[{what, "ms", "share"}]``."""
    return [{what: name, "ms": ms, "share": share} for name, ms, share in shares]
