"""Long-file separation from the command line: ``asteroid-deepmask separate`` against Asteroid's
``asteroid-infer`` and SpeechBrain's ``separate_file``, on 1- and 10-minute 8 kHz mono wav files.

Every peer runs the same model: the paper's DPRNN baseline (``hparams/wsj0-2mix/baseline.yaml``,
seeded untrained weights: speed and memory do not depend on them), saved once as our hub folder
(``model.save_pretrained``; Asteroid reads its ``pytorch_model.bin``) and as a
SpeechBrain folder (``asteroid_deepmask.speechbrain.export_model_to_speechbrain``). The inputs are Gaussian
noise, written before anything is timed. Peers:

- ours, batch 1 / batch 4: ``asteroid-deepmask separate --model HUB FILE -o OUT --window 8
  --overlap 1 --batch-size B``.
- asteroid-infer, overlap-add: ``--ola-window 64000 --ola-hop 56000`` (8 s windows, 1 s overlap)
  and ``--ola-window-type hann``: its default, ``hanning``, is a name the installed scipy
  rejects. Its overlap-add pads a whole window at both ends, so it runs one window more (its
  first, all padding).
- asteroid-infer, one shot: the whole file in one forward pass.
- SpeechBrain separate_file: ``SepformerSeparation.from_hparams(source=FOLDER)`` then
  ``separate_file(FILE)``, the whole file in one forward pass; the child writes the sources
  with soundfile, as the other peers do.

``asteroid-infer`` does not import ``asteroid_deepmask``, so Asteroid cannot find the model's
class: when the installed one fails to load the model (it does with asteroid 0.7.0; the reason
is printed), Asteroid's own ``asteroid.scripts.asteroid_cli.infer`` runs with the same arguments
in a Python child that imports ``asteroid_deepmask`` first.

Each run is one fresh process, capped at ``--memory-gib`` of address space (RLIMIT_AS, 8 GiB by
default) and ``--timeout`` seconds; a run past either is reported as "out of memory" or "timed
out". Every run is repeated ``--reps`` times, the peers in an order that rotates from one
repetition to the next, except one that ran out of memory or failed; a repetition that times
out after another finished (a busy machine) is left out.

- wall (s): the whole command, from start to exit (interpreter start, imports, model loading,
  reading, separating, writing); the shortest over the repetitions. "load only" is a child of
  the same peer that only imports and loads the model: its wall time is the part of every run
  that does not depend on the file.
- peak RSS (MiB): the child's maximum resident set size (``ru_maxrss`` from ``os.wait4``): the
  peak of the whole process, interpreter and model included; the highest over the repetitions.
  Against the load-only peak it shows how memory grows with the file. "Flat" means that the
  peak grows, from the shortest file to the longest, by less than one float32 copy of the two
  separated sources per minute of audio (3.7 MiB at 8 kHz): a command that keeps its output
  until the end grows at least that fast, however large its fixed part is. (A ratio of the two
  peaks, the rule of an earlier version, hid such growth behind the interpreter's and the
  model's few hundred MiB.) In a probe of ours at 1, 4 and 10 minutes, two repetitions each,
  the batch-4 peak varied by up to 60 MiB with no trend in the length (batch 1: 20 MiB): over
  1 to 10 minutes that noise is up to 7 MiB per minute. So a command counts as growing only when
  its lowest peak on the longest file exceeds its highest on the shortest by 3.7 MiB per minute
  of audio or more; the table gives the growth between the highest peaks.

    python benchmarks/bench_long_files.py            # 1 and 10 minutes: about 12 minutes on 2 idle cores
    python benchmarks/bench_long_files.py --quick    # 0.2 and 1 minute: about 3 minutes
    python benchmarks/bench_long_files.py --minutes 0.5 2 --reps 1

``--record PATH`` writes a result record (``benchmarks/harness.py``): a row per peer and file length
(``audio_min``, ``status``, ``wall_s``, ``peak_mib``: None for a run that did not finish), ``peers`` (a row
per peer: its load-only run, ``peak_growth_mib_per_min`` and ``memory_trend``) and the target lines.
"""
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

from harness import benchmark_parser, save_record

RATE = 8000
WINDOW_S, OVERLAP_S = 8.0, 1.0
N_SRC = 2
# One float32 copy of a minute of the separated sources, in MiB: what keeping the output costs.
FLAT_MIB_PER_MIN = N_SRC * RATE * 60 * 4 / 2**20
BIN = os.path.dirname(sys.executable)
OOM = re.compile(r"can't allocate memory|Unable to allocate|MemoryError|bad_alloc|Cannot allocate memory")
ASTEROID_INFER = "import sys, asteroid_deepmask; from asteroid.scripts.asteroid_cli import infer; infer(sys.argv[1:])"
OURS_LOAD = ("import sys, tqdm, asteroid_deepmask.cli, asteroid_deepmask.deployment.long_files; "
             "from asteroid_deepmask.deployment.separators import load_separator; load_separator(sys.argv[1])")
SPEECHBRAIN = """
import sys
import soundfile as sf
from speechbrain.inference.separation import SepformerSeparation

folder, savedir, out, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
model = SepformerSeparation.from_hparams(source=folder, savedir=savedir, run_opts={"device": "cpu"})
for path in files:
    sources = model.separate_file(path, savedir=savedir)[0].numpy()  # [time, n_src]
    for i in range(sources.shape[1]):
        sf.write(f"{out}/s{i + 1}.wav", sources[:, i], int(model.hparams.sample_rate))
"""


def run_capped(cmd, timeout, memory_bytes, log_path):
    """Run ``cmd`` under the caps; returns ``{"status", "wall_s", "peak_mib", "detail"}``.

    ``status`` is "ok", "out of memory", "timed out" or "failed (exit N)"; ``detail`` is the
    last line of the run's output."""

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    # timeout(1) sends TERM and exits 124; os.wait4 gives this child's own rusage (ru_maxrss of
    # RUSAGE_CHILDREN would be the maximum over every run so far). timeout's waited-for child
    # is included in it.
    with open(log_path, "w") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(["timeout", "-k", "5", str(timeout), *cmd], stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=cap)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # timeout(1) runs in its own process group: Ctrl-C does not reach it
            proc.terminate()  # it passes the signal on to the command
            proc.wait()
            raise
        wall = time.perf_counter() - start
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    with open(log_path) as log:
        text = log.read()
    lines = [line for line in text.splitlines() if line.strip()]
    if code == 0:
        state = "ok"
    elif code == 124:
        state = "timed out"
    elif OOM.search(text) or code in (137, -9):  # 137: killed by the kernel's OOM killer
        state = "out of memory"
    else:
        state = f"failed (exit {code})"
    return {"status": state, "wall_s": wall, "peak_mib": usage.ru_maxrss / 1024, "detail": lines[-1] if lines else ""}


def prepare(tmp, minutes):
    """Write the model folders and the noise files; returns ``(hub, speechbrain, {minutes: path})``."""
    import numpy as np
    import soundfile as sf
    import torch

    from asteroid_deepmask.experiment.hparams import hparams_dir, load_hparams
    from asteroid_deepmask.models import build_model
    from asteroid_deepmask.speechbrain import export_model_to_speechbrain

    torch.manual_seed(0)
    model = build_model(load_hparams(os.path.join(hparams_dir(), "wsj0-2mix", "baseline.yaml"))["model"]).eval()
    hub = model.save_pretrained(os.path.join(tmp, "hub"))
    speechbrain = export_model_to_speechbrain(model, os.path.join(tmp, "speechbrain"))
    rng, files = np.random.default_rng(0), {}
    for m in minutes:
        files[m] = os.path.join(tmp, f"noise_{m:g}min.wav")
        sf.write(files[m], 0.1 * rng.standard_normal(int(m * 60 * RATE)).astype("float32"), RATE, subtype="PCM_16")
    return hub, speechbrain, files


def peers(tmp, hub, speechbrain, asteroid_prefix):
    """``{name: (loader, command for (input, output folder))}``; peers that share a loader share
    its load-only run."""
    bin_file = os.path.join(hub, "pytorch_model.bin")
    window, hop = int(WINDOW_S * RATE), int((WINDOW_S - OVERLAP_S) * RATE)

    def ours(batch):
        return lambda wav, out: [os.path.join(BIN, "asteroid-deepmask"), "separate", "--model", hub, wav, "-o", out,
                                 "--window", str(WINDOW_S), "--overlap", str(OVERLAP_S), "--batch-size", str(batch),
                                 "--force"]

    def asteroid(*ola):
        return lambda wav, out: [*asteroid_prefix, bin_file, "--files", wav, "-o", out, "-f", *ola]

    return {
        "ours, batch 1": ("ours", ours(1)),
        "ours, batch 4": ("ours", ours(4)),
        "asteroid-infer, overlap-add": (
            "asteroid",
            asteroid("--ola-window", str(window), "--ola-hop", str(hop), "--ola-window-type", "hann")),
        "asteroid-infer, one shot": ("asteroid", asteroid()),
        "SpeechBrain separate_file": (
            "speechbrain",
            lambda wav, out: [sys.executable, "-c", SPEECHBRAIN, speechbrain, os.path.join(tmp, "sb_saved"), out, wav]),
    }


def loaders(tmp, hub, speechbrain, asteroid_prefix):
    """Load-only commands: the peer's imports and model loading, no separation."""
    nothing = os.path.join(tmp, "no_such_file_*.wav")  # asteroid-infer loads the model, then finds no file
    return {
        "ours": [sys.executable, "-c", OURS_LOAD, hub],
        "asteroid": [*asteroid_prefix, os.path.join(hub, "pytorch_model.bin"), "--files", nothing,
                     "-o", os.path.join(tmp, "unused")],
        "speechbrain": [sys.executable, "-c", SPEECHBRAIN, speechbrain, os.path.join(tmp, "sb_saved"), tmp],
    }


def merge(best, run):
    """A peer's result over repetitions: the shortest wall time and the highest peak of its
    finished runs; a failure only when none finished (a later repetition that times out on a
    busy machine does not undo a finished one)."""
    if best is None or best["status"] != "ok":
        return run
    if run["status"] != "ok":
        return best
    return {**best, "wall_s": min(best["wall_s"], run["wall_s"]), "peak_mib": max(best["peak_mib"], run["peak_mib"]),
            "lowest_peak_mib": min(best.get("lowest_peak_mib", best["peak_mib"]), run["peak_mib"])}


def cell(run, key, fmt):
    return fmt.format(run[key]) if run["status"] == "ok" else run["status"]


def growth(runs, minutes):
    """``(longest file's peak / shortest's, MiB per minute between them)``, or None when either failed."""
    short, long = runs[minutes[0]], runs[minutes[-1]]
    if not short["status"] == long["status"] == "ok":
        return None
    return long["peak_mib"] / short["peak_mib"], (long["peak_mib"] - short["peak_mib"]) / (minutes[-1] - minutes[0])


def memory_trend(runs, minutes):
    """"flat", "grows" (out of memory, or one copy of the output per minute of audio or more,
    beyond the spread of the repetitions: the longest file's lowest peak against the shortest's
    highest) or "unknown" (timed out or failed)."""
    statuses = {runs[m]["status"] for m in minutes}
    if statuses == {"ok"}:
        short, long = runs[minutes[0]], runs[minutes[-1]]
        least = (long.get("lowest_peak_mib", long["peak_mib"]) - short["peak_mib"]) / (minutes[-1] - minutes[0])
        return "flat" if least < FLAT_MIB_PER_MIN else "grows"
    return "grows" if "out of memory" in statuses else "unknown"


def best_wall(results, names, m):
    """``(shortest wall time, what it was)`` among ``names`` at ``m`` minutes; a run that did not
    finish counts as slower than any that did."""
    return min(((results[n][m]["wall_s"], f"{n} {results[n][m]['wall_s']:.1f} s") for n in names
                if results[n][m]["status"] == "ok"), default=(float("inf"), "none finished"))


def markdown_row(cells):
    return "| " + " | ".join(cells) + " |"


def report(results, load, peer_loader, minutes):
    lengths = [f"{m:g} min" for m in minutes]
    head = ["peer", "load only: wall (s)", "load only: peak RSS (MiB)"]
    for length in lengths:
        head += [f"{length}: wall (s)", f"{length}: peak RSS (MiB)"]
    head += [f"peak {lengths[-1]} / {lengths[0]}", "peak growth (MiB per min of audio)"]
    print(markdown_row(head) + "\n|" + "---|" * len(head))
    for name, runs in results.items():
        base = load[peer_loader[name]]
        row = [name, cell(base, "wall_s", "{:.1f}"), cell(base, "peak_mib", "{:.0f}")]
        for m in minutes:
            row += [cell(runs[m], "wall_s", "{:.1f}"), cell(runs[m], "peak_mib", "{:.0f}")]
        ratio = growth(runs, minutes)
        row += ["-", "-"] if ratio is None else [f"{ratio[0]:.2f}x", f"{ratio[1]:+.1f}"]
        print(markdown_row(row))

    ours = results["ours, batch 1"]
    print("\nRatios to ours, batch 1 (> 1: the peer takes more time / memory):\n")
    head = ["peer"] + [f"{length}: {what}" for length in lengths for what in ("wall", "peak RSS")]
    print(markdown_row(head) + "\n|" + "---|" * len(head))
    for name, runs in results.items():
        row = [name]
        for m in minutes:
            for key in ("wall_s", "peak_mib"):
                if runs[m]["status"] != "ok":
                    row.append(runs[m]["status"])
                else:
                    row.append(f"{runs[m][key] / ours[m][key]:.2f}x" if ours[m]["status"] == "ok" else "-")
        print(markdown_row(row))

    failures = [f"- {name}, {m:g} min: {runs[m]['status']}: {runs[m]['detail']}"
                for name, runs in results.items() for m in minutes if runs[m]["status"] != "ok"]
    if failures:
        print("\nRuns that did not finish (last line of their output):\n" + "\n".join(failures))

    ours_names = [name for name in results if name.startswith("ours")]
    others = [name for name in results if name not in ours_names]
    race = {m: (best_wall(results, ours_names, m), best_wall(results, others, m)) for m in minutes}
    fastest = all(mine[0] < theirs[0] for mine, theirs in race.values())
    margins = "; ".join(f"{m:g} min: {mine[1]} against {theirs[1]}" for m, (mine, theirs) in race.items())
    targets = [f"Target: ours the fastest at {' and '.join(lengths)} (the faster of our batch sizes against the "
               f"fastest other peer; {margins}): {'met' if fastest else 'not met'}"]
    trend = {name: memory_trend(runs, minutes) for name, runs in results.items()}
    unknown = [name for name in results if trend[name] == "unknown"]
    if any(trend[n] == "grows" for n in ours_names) or any(trend[n] == "flat" for n in others):
        verdict = "not met"
    elif unknown:
        verdict = f"undetermined (timed out or failed: {', '.join(unknown)})"
    else:
        verdict = "met"
    flat = ", ".join(n for n in results if trend[n] == "flat") or "none"
    targets.append(f"Target: ours the only one with memory flat in file length (peak growth from {lengths[0]} to "
                   f"{lengths[-1]} under {FLAT_MIB_PER_MIN:.1f} MiB per minute of audio; flat: {flat}): {verdict}")
    print("\n" + "\n".join(targets))
    return targets


def record_rows(results, load, peer_loader, minutes):
    """``(rows, peers)`` of the record: a row per peer and length, and a row per peer."""
    def ok(run, key):
        return run[key] if run["status"] == "ok" else None

    rows = [dict(peer=name, audio_min=m, status=runs[m]["status"], wall_s=ok(runs[m], "wall_s"),
                 peak_mib=ok(runs[m], "peak_mib")) for name, runs in results.items() for m in minutes]
    peers = []
    for name, runs in results.items():
        base, ratio = load[peer_loader[name]], growth(runs, minutes)
        peers.append(dict(peer=name, load_wall_s=ok(base, "wall_s"), load_peak_mib=ok(base, "peak_mib"),
                          peak_growth_mib_per_min=None if ratio is None else ratio[1],
                          memory_trend=memory_trend(runs, minutes)))
    return rows, peers


def main():
    parser = benchmark_parser(__doc__)
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0], help="file lengths (default 1 10)")
    parser.add_argument("--quick", action="store_true", help="0.2 and 1 minute, for a quick look")
    parser.add_argument("--reps", type=int, default=2, help="repetitions of every run (default 2)")
    parser.add_argument("--timeout", type=float, default=360.0, help="seconds per run (default 360)")
    parser.add_argument("--memory-gib", type=float, default=8.0, help="address-space cap per run (default 8)")
    args = parser.parse_args()
    minutes = sorted([0.2, 1.0] if args.quick else args.minutes)
    memory = int(args.memory_gib * 2**30)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        hub, speechbrain, files = prepare(tmp, minutes)

        def run(cmd, label):
            result = run_capped(cmd, args.timeout, memory, os.path.join(tmp, re.sub(r"\W+", "_", label) + ".log"))
            print(f"  {label}: {result['status']}, {result['wall_s']:.1f} s, {result['peak_mib']:.0f} MiB",
                  file=sys.stderr)
            return result

        asteroid_prefix = [os.path.join(BIN, "asteroid-infer")]
        probe = run(loaders(tmp, hub, speechbrain, asteroid_prefix)["asteroid"], "asteroid-infer as installed")
        if probe["status"] != "ok":
            print(f"asteroid-infer as installed cannot load the model ({probe['detail']}); it runs as "
                  "asteroid.scripts.asteroid_cli.infer in a child that imports asteroid_deepmask first.\n")
            asteroid_prefix = [sys.executable, "-c", ASTEROID_INFER]
        load_cmds = loaders(tmp, hub, speechbrain, asteroid_prefix)
        table = peers(tmp, hub, speechbrain, asteroid_prefix)
        load = dict.fromkeys(load_cmds)
        results = {name: dict.fromkeys(minutes) for name in table}
        names = list(table)
        for rep in range(args.reps):
            for name, cmd in load_cmds.items():
                load[name] = merge(load[name], run(cmd, f"{name}, load only"))
            # The order rotates so that a slow spell of the shared machine does not always hit the same peer.
            shift = rep % len(names)
            for m in minutes:
                for name in names[shift:] + names[:shift]:
                    if rep and results[name][m]["status"] not in ("ok", "timed out"):
                        continue  # it would run out of memory or fail again; a busy machine can time out
                    out = os.path.join(tmp, "out", re.sub(r"\W+", "_", f"{name} {m:g} {rep}"))
                    os.makedirs(out)
                    result = run(table[name][1](files[m], out), f"{name}, {m:g} min")
                    results[name][m] = merge(results[name][m], result)
    print(f"Memory cap {args.memory_gib:g} GiB of address space and {args.timeout:g} s per run; "
          f"{WINDOW_S:g} s windows with {OVERLAP_S:g} s overlap where a peer has windows; best of {args.reps} "
          "repetitions.\n")
    peer_loader = {name: loader for name, (loader, _) in table.items()}
    targets = report(results, load, peer_loader, minutes)
    print(f"\nTotal {time.perf_counter() - start:.0f} s.")
    rows, peer_rows = record_rows(results, load, peer_loader, minutes)
    save_record(args.record, "bench_long_files", rows, peers=peer_rows, targets=targets, reps=args.reps,
                timeout_s=args.timeout, memory_cap_gib=args.memory_gib)


if __name__ == "__main__":
    main()
