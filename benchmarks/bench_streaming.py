"""Live separation on one CPU thread: time per block of a stream, for blocks of 4, 10 and 20 ms at 8 kHz.

Models: the paper-size causal DPRNN baseline and MLP (L) and the causal Conv-TasNet MLP (L)
(``hparams/wsj0-2mix/causal_baseline.yaml``, ``causal_mlp_l.yaml``, ``convtasnet_causal_mlp_l.yaml``),
with seeded untrained weights (speed does not depend on them). Ways to separate a stream:

- torch: :class:`~asteroid_deepmask.deployment.streaming.Streamer` (``stream_step`` in eager
  mode, the state carried from block to block), ``torch.set_num_threads(1)``;
- TorchScript step: the same step traced, as ``export --streaming live.pt`` writes it, fed its own
  states (torch without Python between the operations);
- ONNX Runtime: the step written by ``export_streaming_model`` for that block, fed its own
  states, the session called directly with numpy arrays (``intra_op_num_threads=1``);
- torch int8 and ONNX Runtime int8: the same two with the recurrent, linear and 1x1 convolution
  layers in dynamic int8 (``quantize_int8``; ``export_streaming_model(..., quantize="int8")``);
- re-run: what a user does without a state, ``model(x[-8000:])`` on the last second for every
  block (torch, keeping the last block's samples); it costs the same for any block, so it is
  timed on ``--rerun-blocks`` blocks of each stream only (its p99 is then nearly its maximum).

Each repetition streams ``--seconds`` of noise through every way of every model and block in turn
(the ways' order rotating, ``benchmarks/harness.py``; repetition ``r`` of everything before ``r + 1`` of
anything, so that each model's repetitions are spread over the whole run), after a warm-up stream of
1.1 s; a way's median is that of its best repetition (the minimum over repetitions, as in the other
benchmarks: a slow spell of a shared machine lasts minutes), its p99 over every block of every
repetition. RTF: median time per block / block duration. Latency: samples by which
the output lags the input (``stream_latency``: the encoder's window minus its stride); a live
system adds a block and the time to compute it. Re-run / streaming: re-run median / the way's
median. Limit: the RTF the model would have if its multiply-adds per block (``count_complexity``'s
``macs_run_g``: a stream computes each frame once) ran at the rate one thread reaches in a large
float32 matrix product (measured at the start, ``core_gmacs`` in the record); RTF / limit says how far
each way is from that ceiling. CPU time: the process's CPU time per block (median): on a machine shared with other jobs
it leaves out the time spent waiting for a core, not the slowdown of sharing caches and cores, so
it lies between the wall-clock time and an idle machine's. Memory stays
bounded: per-block times are kept, outputs are not.

The issues' targets at 10 ms blocks (causal DPRNN MLP (L): real-time factors and the re-run ratio;
causal DPRNN baseline: int8 at least 2x torch float32; causal Conv-TasNet MLP (L): live, RTF below 0.5,
in ONNX Runtime int8, its fastest engine) are printed as PASS / MISS lines; a miss
comes with where the time goes in that model's float32 or int8 ways: torch's time per stage
(encoder, trunk RNNs, other trunk layers, head, decoder, and the rest outside modules: state
reads and writes, reshapes, functional ops, Python; a causal DPRNN's inter-chunk LSTM step,
written out with its weights in torch, is in the rest), the top torch operators, and ONNX
Runtime's top operators. Speed-up: torch float32 median / the way's median.

    python benchmarks/bench_streaming.py               # 5 s streams: for a steadier p99 on an idle machine
    python benchmarks/bench_streaming.py --seconds 2 --rerun-blocks 10   # 10 minutes on 2 cores shared with other jobs (load 4-7)
    python benchmarks/bench_streaming.py --seconds 2 --reps 1 --models causal_mlp_l --blocks 10   # a quick look

``--record PATH`` writes a result record (``benchmarks/harness.py``): a row per model, way and block
(``block_ms``, ``median_ms``, ``p99_ms``, ``rtf``, ``cpu_median_ms``, ``latency_ms``, ``speedup``, ...), the target
lines, the profiles (``profile_rows``: ``model``, ``precision``, ``profile``, ``part``, ``ms`` per block, ``share``),
and the machine line with its load averages.
"""
import os
import statistics
import tempfile
import time
from collections import Counter

from asteroid_deepmask.utils.result_records import host_info
from harness import benchmark_parser, onnx_op_ms, rotations, save_record, share_rows, top_shares, torch_op_ms

MODELS = {"causal_baseline": "causal DPRNN baseline", "causal_mlp_l": "causal DPRNN MLP (L)",
          "convtasnet_causal_mlp_l": "causal Conv-TasNet MLP (L)"}
WAYS = {"torch": "torch", "torchscript": "TorchScript step", "onnx": "ONNX Runtime", "int8": "torch int8",
        "onnx_int8": "ONNX Runtime int8", "rerun": "re-run on 1 s (torch)"}
#: The streaming files each block size is exported to, by way: (suffix, quantize).
EXPORTED = {"torchscript": (".pt", None), "onnx": (".onnx", None), "onnx_int8": (".onnx", "int8")}
BLOCKS_MS = (4.0, 10.0, 20.0)
RERUN_SECONDS = 1.0
# The issues' targets at one block: (model, way, quantity, bound); RTF at most, the ratios at least.
TARGET_BLOCK_MS = 10.0
TARGETS = [("causal_mlp_l", "torch", "rtf", 0.25), ("causal_mlp_l", "onnx", "rtf", 0.10),
           ("causal_mlp_l", "onnx_int8", "rtf", 0.07),
           ("causal_mlp_l", "torch", "rerun_ratio", 10.0), ("causal_baseline", "int8", "speedup", 2.0),
           ("causal_baseline", "onnx_int8", "speedup", 2.0), ("convtasnet_causal_mlp_l", "onnx_int8", "rtf", 0.5)]


def build_model(name, corpus="wsj0-2mix"):
    """The model of ``hparams/<corpus>/<name>.yaml``, with seeded untrained weights (speed does not depend on them)."""
    import torch

    from asteroid_deepmask.experiment.hparams import hparams_dir, load_hparams
    from asteroid_deepmask.models import build_model as build

    torch.manual_seed(0)
    return build(load_hparams(os.path.join(hparams_dir(), corpus, f"{name}.yaml"))["model"]).eval()


def mixture(seconds, rate=8000):
    import torch

    return 0.1 * torch.randn(1, int(seconds * rate), generator=torch.Generator().manual_seed(1))


def core_macs_per_s(seconds=0.5, size=1024):
    """Multiply-adds per second that one thread reaches in a large float32 matrix product: what the core
    does when nothing but arithmetic limits it (the ceiling of every engine here)."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(3):
        a @ b
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        done += 1
    return done * size ** 3 / (time.perf_counter() - start)


def model_macs_per_s(model):
    """Multiply-adds per second of audio that ``model`` runs (``count_complexity``'s ``macs_run_g`` on 1 s):
    a stream computes each frame once, as the whole-input pass does, so a block costs its share of them."""
    from asteroid_deepmask.complexity import count_complexity

    return 1e9 * count_complexity(model, seconds=1.0)["macs_run_g"]


def _timed(call, blocks):
    """``(wall-clock, CPU)`` seconds of ``call(block)`` for each block, in order; CPU: this process's, which
    on one thread is the block's compute time without the waits for a core that other processes cause."""
    times = []
    for block in blocks:
        wall, cpu = time.perf_counter(), time.process_time()
        call(block)
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return times


def torch_stream(model, block):
    """A stream of ``mixture`` ``[1, time]`` through a new :class:`Streamer`, block by block: seconds per block (:func:`_timed`)."""
    def stream(mix):
        streamer = model.streamer()
        return _timed(streamer.process, mix[:, :mix.shape[-1] // block * block].split(block, dim=-1))

    return stream


def onnx_stream(path, block, session=None):
    """The same through the streaming ONNX file ``path`` (``session``: by default a new one-thread
    session), each call fed the states the last one returned."""
    import numpy as np
    import onnxruntime as ort

    from asteroid_deepmask.deployment.export import INPUT_NAME, read_export_metadata

    states_meta = read_export_metadata(path)["states"]
    names = [INPUT_NAME, *(s["name"] for s in states_meta)]
    session = session or ort.InferenceSession(path, onnx_options(), providers=["CPUExecutionProvider"])

    def stream(mix):
        states = [np.zeros([1 if d == "batch" else d for d in s["shape"]], dtype=s["dtype"]) for s in states_meta]

        def step(samples):
            states[:] = session.run(None, dict(zip(names, [samples, *states])))[1:]

        blocks = mix.numpy()[:, :mix.shape[-1] // block * block].reshape(1, -1, block)
        return _timed(step, [np.ascontiguousarray(blocks[:, i]) for i in range(blocks.shape[1])])

    return stream


def torchscript_stream(path, block):
    """The same through the streaming TorchScript file ``path`` (the traced step ``export --streaming`` writes),
    each call fed the states the last one returned."""
    import torch

    from asteroid_deepmask.deployment.export import read_export_metadata

    states_meta = read_export_metadata(path)["states"]
    module = torch.jit.load(path)

    def stream(mix):
        states = [torch.zeros([1 if d == "batch" else d for d in s["shape"]], dtype=getattr(torch, s["dtype"]))
                  for s in states_meta]

        def step(samples):
            with torch.no_grad():
                states[:] = module(samples, *states)[1:]

        return _timed(step, mix[:, :mix.shape[-1] // block * block].split(block, dim=-1))

    return stream


def onnx_options():
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return options


def rerun_stream(model, block, n_blocks):
    """Without a state: ``model`` on the last :data:`RERUN_SECONDS` for each of ``n_blocks`` blocks after
    the first :data:`RERUN_SECONDS`, keeping the last block's output samples."""
    import torch

    window = int(RERUN_SECONDS * model.sample_rate)

    def stream(mix):
        ends = range(window + block, min(mix.shape[-1], window + n_blocks * block) + 1, block)
        with torch.no_grad():
            return _timed(lambda end: model(mix[:, end - window:end])[..., -block:], ends)

    return stream


def ways(model, block, paths, rerun_blocks, int8_model):
    """The ways to stream ``model`` in blocks of ``block`` samples: name -> function of a mixture giving seconds
    per block (:func:`_timed`); ``paths`` are the streaming ONNX files by way, ``int8_model`` its
    ``quantize_int8`` copy."""
    return {"torch": torch_stream(model, block), "torchscript": torchscript_stream(paths["torchscript"], block),
            "onnx": onnx_stream(paths["onnx"], block),
            "int8": torch_stream(int8_model, block), "onnx_int8": onnx_stream(paths["onnx_int8"], block),
            "rerun": rerun_stream(model, block, rerun_blocks)}


def measure(setups, mix, reps, warmup):
    """Seconds per block of the streams of each setup (``{setup: {way: stream}}``, e.g. a model and block size) on
    ``mix``, after one stream of ``warmup`` each (lazy initialisation, primitive caches): ``{setup: {way: [times of
    each round]}}``. Round ``r`` of every setup runs before round ``r + 1`` of any, the ways of a setup in an order
    rotated each round: the rounds of a setup are spread over the whole run, so that a slow spell of a shared
    machine, which lasts minutes, leaves each setup some rounds outside it."""
    for streams in setups.values():
        for stream in streams.values():
            stream(warmup)
    orders = {setup: list(rotations(list(streams), reps)) for setup, streams in setups.items()}
    times = {setup: {way: [] for way in streams} for setup, streams in setups.items()}
    for r in range(reps):
        started = time.perf_counter()
        for setup, streams in setups.items():
            for way in orders[setup][r]:
                times[setup][way].append(streams[way](mix))
        print(f"repetition {r + 1}/{reps} of {len(setups)} setups: {time.perf_counter() - started:.0f} s", flush=True)
    return times


def summary(rounds, block_s):
    """Median (ms) of the wall-clock times per block (:func:`_timed`) in the way's best round, as the other
    benchmarks take their minimum over repetitions (a slow spell of a shared machine lasts a round or more), the
    real-time factor for blocks of ``block_s`` seconds, the same from the CPU times, and the p99 (ms) over every
    block of every round."""
    ordered = sorted(wall for times in rounds for wall, _ in times)
    median = min(statistics.median(wall for wall, _ in times) for times in rounds)
    cpu = min(statistics.median(cpu for _, cpu in times) for times in rounds)
    return dict(median_ms=1000 * median, p99_ms=1000 * ordered[round(0.99 * (len(ordered) - 1))], rtf=median / block_s,
                cpu_median_ms=1000 * cpu, cpu_rtf=cpu / block_s, n_blocks=len(ordered))


def stage_of(name, module):
    from torch import nn

    from asteroid_deepmask.deployment.quantization import QuantizedRNN

    if name.startswith("masker.trunk"):
        return "trunk RNNs" if isinstance(module, (nn.RNNBase, QuantizedRNN)) else "trunk other layers"
    for prefix, stage in (("encoder", "encoder"), ("masker.head", "head"), ("decoder", "decoder")):
        if name.startswith(prefix):
            return stage
    return "other modules"


def stage_ms(model, block, seconds=1.0):
    """Torch streaming's time in each stage (:func:`stage_of` of the outermost module running),
    ``[(stage, ms per block, share)]``, with ``"rest"``: outside modules (state reads and writes, reshapes, functional ops
    such as a causal DPRNN's written-out inter-chunk LSTM step, Python). Forward hooks time the modules, so the total is a little above an unprofiled block's."""
    depth, started, stages = [0], [0.0], Counter()

    def enter(module, args):
        depth[0] += 1
        if depth[0] == 1:
            started[0] = time.perf_counter()

    def leave(module, args, out, stage):
        depth[0] -= 1
        if depth[0] == 0:
            stages[stage] += time.perf_counter() - started[0]

    handles = []
    for name, module in model.named_modules():
        if name:
            stage = stage_of(name, module)
            handles += [module.register_forward_pre_hook(enter),
                        module.register_forward_hook(lambda m, a, o, s=stage: leave(m, a, o, s))]
    try:
        times = torch_stream(model, block)(mixture(seconds))
    finally:
        for handle in handles:
            handle.remove()
    stages["rest"] = sum(wall for wall, _ in times) - sum(stages.values())
    return top_shares(Counter({stage: 1000 * total for stage, total in stages.items()}), len(times), len(stages))


def profiles(model, block, onnx_path, n_blocks=50):
    """Where a block's time goes over a stream of ``n_blocks`` blocks: torch's stages, torch's top operators
    and ONNX Runtime's top operators (ms per block, share); ``model`` and ``onnx_path`` are float32 or int8."""
    mix = mixture(n_blocks * block / float(model.sample_rate))
    stream = torch_stream(model, block)
    stream(mix)
    return {"torch stages": stage_ms(model, block),
            "torch operators": top_shares(torch_op_ms(lambda: stream(mix)), n_blocks),
            "ONNX Runtime operators": top_shares(onnx_op_ms(onnx_path, lambda session: onnx_stream(
                onnx_path, block, session)(mix), options=onnx_options()), n_blocks)}


def target_lines(rows):
    """PASS / MISS lines of :data:`TARGETS` on ``rows`` (a target whose row was not measured says so)."""
    lines = []
    for model, way, quantity, bound in TARGETS:
        row = next((r for r in rows if (r["model"], r["block_ms"], r["way"]) == (model, TARGET_BLOCK_MS, way)), None)
        what = {"rtf": f"RTF <= {bound:g}", "rerun_ratio": f"re-run / streaming >= {bound:g}x",
                "speedup": f"speed-up vs torch float32 >= {bound:g}x"}[quantity]
        label = f"{MODELS[model]}, {TARGET_BLOCK_MS:g} ms blocks, {WAYS[way]}: {what}"
        if row is None:
            lines.append(f"NOT MEASURED {label} (add it to --models and --blocks)")
            continue
        value = row[quantity]
        ok = value <= bound if quantity == "rtf" else value >= bound
        lines.append(f"{'PASS' if ok else 'MISS'} {label}: measured {value:.3g} "
                     f"(from CPU time instead of wall-clock time: {row['cpu_' + quantity]:.3g})")
    return lines


def table(rows):
    lines = ["| model | way | block (ms) | median (ms) | p99 (ms) | RTF | CPU time, median (ms) | latency "
             "| re-run / streaming | speed-up vs torch float32 | RTF / limit |", "|---" * 11 + "|"]
    for r in rows:
        latency = "-" if r["way"] == "rerun" else f"{r['latency']} samples ({r['latency_ms']:g} ms)"
        ratio = "-" if r["way"] == "rerun" else f"{r['rerun_ratio']:.0f}x"
        lines.append(f"| {MODELS[r['model']]} | {WAYS[r['way']]} | {r['block_ms']:g} | {r['median_ms']:.2f} | "
                     f"{r['p99_ms']:.2f} | {r['rtf']:.3f} | {r['cpu_median_ms']:.2f} | {latency} | {ratio} | "
                     f"{r['speedup']:.2f}x | {r['above_limit']:.0f}x |")
    return "\n".join(lines)


def main():
    parser = benchmark_parser(__doc__)
    parser.add_argument("--reps", type=int, default=2, help="streams per way (interleaved)")
    parser.add_argument("--seconds", type=float, default=5.0, help="audio per stream (at least 1.1 s)")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--blocks", nargs="+", type=float, default=list(BLOCKS_MS), help="block durations (ms)")
    parser.add_argument("--rerun-blocks", type=int, default=20, help="blocks timed per re-run stream")
    parser.add_argument("--profile", action="store_true", help="print where the time goes even when targets pass")
    args = parser.parse_args()
    warmup_s = RERUN_SECONDS + 0.1
    if args.seconds < warmup_s:
        parser.error(f"--seconds {args.seconds:g} leaves no block to re-run on a full second: give at least {warmup_s:g}.")
    import onnxruntime
    import torch

    from asteroid_deepmask.deployment.quantization import quantize_int8
    from asteroid_deepmask.deployment.streaming import stream_latency
    from asteroid_deepmask.deployment.streaming_export import block_samples, export_streaming_model

    torch.set_num_threads(1)
    host = host_info()
    machine = (f"{host['cpu_model']} ({host['kind']}), {host['cores']} cores "
               f"(load average {os.getloadavg()[0]:.1f} at the start); "
               f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, 1 thread")
    print(machine, flush=True)
    rows, where = [], {}
    core = core_macs_per_s()
    print(f"one thread's matrix-product rate: {core / 1e9:.1f} GMAC/s", flush=True)
    mix, warmup = mixture(args.seconds), mixture(warmup_s)
    with tempfile.TemporaryDirectory() as folder:
        models = {name: build_model(name) for name in args.models}
        int8_models = {name: quantize_int8(model) for name, model in models.items()}
        # the RTF each model would have if every multiply-add ran at the matrix-product rate
        limit_rtfs = {name: model_macs_per_s(model) / core for name, model in models.items()}
        setups, paths, blocks = {}, {}, {}
        for name, model in models.items():
            for block_ms in args.blocks:
                blocks[name, block_ms] = block = block_samples(model.sample_rate, block_ms, model.encoder.stride)
                paths[name, block_ms] = {
                    way: export_streaming_model(model, os.path.join(folder, f"{name}_{block}_{way}{suffix}"), block,
                                                quantize=quantize)
                    for way, (suffix, quantize) in EXPORTED.items()}
                setups[name, block_ms] = ways(model, block, paths[name, block_ms], args.rerun_blocks, int8_models[name])
        times = measure(setups, mix, args.reps, warmup)
        for (name, block_ms), setup_times in times.items():
            model, block, limit_rtf = models[name], blocks[name, block_ms], limit_rtfs[name]
            latency = stream_latency(model)
            stats = {way: summary(t, block / float(model.sample_rate)) for way, t in setup_times.items()}
            for way, stat in stats.items():
                rows.append(dict(model=name, way=way, block_ms=block_ms, block=block, latency=latency,
                                 latency_ms=1000 * latency / float(model.sample_rate),
                                 rerun_ratio=stats["rerun"]["median_ms"] / stat["median_ms"],
                                 cpu_rerun_ratio=stats["rerun"]["cpu_median_ms"] / stat["cpu_median_ms"],
                                 speedup=stats["torch"]["median_ms"] / stat["median_ms"],
                                 cpu_speedup=stats["torch"]["cpu_median_ms"] / stat["cpu_median_ms"],
                                 macs_per_block_m=limit_rtf * core * block / float(model.sample_rate) / 1e6,
                                 limit_rtf=limit_rtf, above_limit=stat["rtf"] / limit_rtf, **stat))
                print(table(rows[-1:]).splitlines()[-1], flush=True)
            if block_ms == TARGET_BLOCK_MS:
                missed = {way for line, (target, way, _, _) in zip(target_lines(rows), TARGETS)
                          if target == name and (line.startswith("MISS") or args.profile)}
                if missed & {"torch", "onnx"}:
                    where.update({(name, "float32", title): shares
                                  for title, shares in profiles(model, block, paths[name, block_ms]["onnx"]).items()})
                if missed & {"int8", "onnx_int8"}:
                    where.update({(name, "int8", title): shares for title, shares in profiles(
                        int8_models[name], block, paths[name, block_ms]["onnx_int8"]).items()})
    checks = target_lines(rows)
    machine += f" (load average {os.getloadavg()[0]:.1f} at the end)"
    print(f"\n{machine}\n\n{table(rows)}\n\n" + "\n".join(checks))
    for (name, precision, title), shares in where.items():
        print(f"\n{MODELS[name]}, {precision}, {title}, {TARGET_BLOCK_MS:g} ms blocks (ms per block, share): "
              + ", ".join(f"{key} {ms:.2f} ({share:.0%})" for key, ms, share in shares))
    save_record(args.record, "bench_streaming", rows, targets=checks, machine=machine, core_gmacs=core / 1e9,
                profile_rows=profile_rows(where))


def profile_rows(where):
    """The profiles ``{(model, precision, title): [(part, ms, share)]}`` as record rows: ``model``,
    ``precision``, ``profile`` (the title), ``part``, ``ms`` (per block) and ``share``."""
    return [{"model": name, "precision": precision, "profile": title, **row}
            for (name, precision, title), shares in where.items() for row in share_rows(shares, "part")]


if __name__ == "__main__":
    main()
