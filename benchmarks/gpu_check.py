"""The GPU paths, checked on a machine with a CUDA GPU, in one run of under 5 minutes.

Checks, one line each (name, pass / fail / skip, seconds, what was measured):

- ``train 32``, ``train 16-mixed``, ``train bf16-mixed``: optimiser steps of our paper baseline
  (``hparams/wsj0-2mix/baseline.yaml``) and Asteroid's ``DPRNNTasNet`` of the same size on the
  same batch (4 x 4 s at 8 kHz, negative SNR, clipping, Adam), in the precision as Lightning runs
  it (``torch.autocast``; float16 with a ``GradScaler``); time per step (minimum over ``--reps``,
  the two models in rotating order, ``benchmarks/harness.py``) and the ratio ours / Asteroid's.
  Passes when both models' losses stay finite and their weights change.
- ``fit 32``, ``fit 16-mixed``, ``fit bf16-mixed``: one epoch of the package's own training
  (``SeparationModule`` and ``fit``, Lightning) on the GPU, in that ``training.precision``.
- ``ddp 2 GPUs``: one step of ``DistributedDataParallel`` (NCCL) over two processes, each with its
  own batch; passes when both end with the same weights. Skipped with fewer than two GPUs.
- ``separate torch cuda``: ``asteroid-deepmask separate --device cuda`` on 10 s of audio; passes
  when its sources agree with the CPU's (SI-SDR above 25 dB; the GPU's convolutions use TF32).
- ``separate onnx cuda``: the same with the model exported to ONNX and run by ONNX Runtime's
  CUDA provider; skipped when the installed onnxruntime has none.
- ``stream torch cuda``, ``stream torchscript cuda``: ``asteroid-deepmask stream --device cuda`` of
  10 s of audio in 10 ms blocks with a causal model (its hub folder, and its float32 TorchScript
  streaming export): blocks and state on the GPU, sources written from the CPU; passes when the
  sources agree with the CPU stream's (SI-SDR above 25 dB).

The models are seeded and untrained: speed does not depend on the weights, agreement is measured
on them. Without a CUDA GPU the script says so and exits 0; otherwise it exits 1 when a check fails.

    python benchmarks/gpu_check.py            # about 2 minutes on one GPU
    python benchmarks/gpu_check.py --reps 20  # steadier step times

``--record PATH`` writes a result record (``benchmarks/harness.py``) with a row per check (``check``,
``status``, ``seconds``, ``detail``); without a GPU there is nothing to record and no file is written.
"""
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

from harness import benchmark_parser, interleaved_min_times, save_record

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRECISIONS = ("32", "16-mixed", "bf16-mixed")
SAMPLE_RATE = 8000
#: Least agreement (SI-SDR, dB) of a GPU separation with the CPU's.
LEAST_AGREEMENT_DB = 25.0


def result_line(name, status, seconds, detail=""):
    """One line of the report: ``name``, ``status`` (pass, fail or skip), ``seconds``, ``detail``.

    Example:
        >>> result_line("train 32", "pass", 1.234, "ratio 1.02")
        'train 32              pass    1.2 s  ratio 1.02'
    """
    return f"{name:<21} {status:<5} {seconds:5.1f} s  {detail}".rstrip()


def check_row(name, check, *args, **kwargs):
    """Run ``check(*args, **kwargs)``, which returns ``(status, detail)``, and print its line; returns the
    record's row, ``{"check", "status", "seconds", "detail"}``. An exception is a failure, reported by its last
    line."""
    start = time.perf_counter()
    try:
        status, detail = check(*args, **kwargs)
    except Exception as err:  # a check that cannot run has failed; the others still run
        lines = str(err).strip().splitlines()
        status, detail = "fail", f"{type(err).__name__}: {lines[-1] if lines else ''}"
    seconds = time.perf_counter() - start
    print(result_line(name, status, seconds, detail), flush=True)
    return {"check": name, "status": status, "seconds": seconds, "detail": detail}


def paper_models():
    """``{"ours": the paper baseline, "asteroid": DPRNNTasNet of the same size}``, seeded."""
    import torch
    from asteroid.models import DPRNNTasNet

    from asteroid_deepmask.experiment.hparams import hparams_dir, load_hparams
    from asteroid_deepmask.models import build_model

    torch.manual_seed(0)
    ours = build_model(load_hparams(os.path.join(hparams_dir(), "wsj0-2mix", "baseline.yaml"))["model"])
    torch.manual_seed(0)
    asteroid = DPRNNTasNet(n_src=2, bn_chan=64, hid_size=128, chunk_size=100, hop_size=50, n_repeats=6,
                           mask_act="relu", kernel_size=16, n_filters=64, stride=8, sample_rate=SAMPLE_RATE)
    return {"ours": ours, "asteroid": asteroid}


def _neg_snr(estimates, targets):
    """Negative SNR in dB, mean over ``[batch, n_src]``, computed in float32 (as our training does)."""
    import torch

    estimates, targets = estimates.float(), targets.float()
    return -(10 * torch.log10(targets.pow(2).sum(-1) / ((targets - estimates).pow(2).sum(-1) + 1e-8) + 1e-8)).mean()


def training_step(model, mix, sources, precision):
    """A closure running one optimiser step of ``model`` on ``(mix [batch, time], sources [batch, n_src, time])``
    in ``precision`` (``"32"``, ``"16-mixed"``, ``"bf16-mixed"``), on their device; it returns the loss.

    Mixed precision is run as Lightning runs it: the forward pass under ``torch.autocast``, and with
    float16 a ``GradScaler`` that scales the loss and skips the steps whose gradients overflow.
    """
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}; choose one of {', '.join(PRECISIONS)}.")
    device = mix.device.type
    dtype = {"16-mixed": torch.float16, "bf16-mixed": torch.bfloat16}.get(precision)
    scaler = torch.amp.GradScaler(device, enabled=precision == "16-mixed")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()

    from asteroid_deepmask.utils.cpu_bf16 import lstm_in_float32_without_cpu_bf16

    def step():
        with lstm_in_float32_without_cpu_bf16(device) if dtype == torch.bfloat16 else contextlib.nullcontext():
            with torch.autocast(device, dtype=dtype, enabled=dtype is not None):
                loss = _neg_snr(model(mix), sources)
            optimizer.zero_grad()
            scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        scaler.step(optimizer)
        scaler.update()
        return loss.item()  # waits for the step's kernels: a timed step is a finished one

    return step


def training_check(models, device, precision, batch=4, seconds=4.0, reps=5):
    """Time optimiser steps of ``models`` (``{"ours": ..., "asteroid": ...}``) on one batch; ``(status, detail)``."""
    import torch

    generator = torch.Generator().manual_seed(0)
    samples = int(seconds * SAMPLE_RATE)
    sources = torch.randn(batch, 2, samples, generator=generator).to(device)
    mix = sources.sum(1)
    losses, before, steps = {}, {}, {}
    for name, model in models.items():
        model.to(device)
        before[name] = [p.detach().clone() for p in model.parameters()]
        step = training_step(model, mix, sources, precision)
        steps[name] = lambda name=name, step=step: losses.setdefault(name, []).append(step())
    times = interleaved_min_times(steps, reps)
    problems = [f"{name}: loss {losses[name][-1]}" for name in models if not all(map(_finite, losses[name]))]
    problems += [f"{name}: weights unchanged" for name, model in models.items()
                 if all(torch.equal(a, b) for a, b in zip(before[name], model.parameters()))]
    detail = ", ".join(f"{name} {1e3 * t:.1f} ms/step" for name, t in times.items())
    if "ours" in times and "asteroid" in times:
        detail += f", ratio {times['ours'] / times['asteroid']:.2f}"
    return ("fail", "; ".join(problems)) if problems else ("pass", detail)


def _finite(value):
    return value == value and abs(value) != float("inf")


def fit_check(model, accelerator, precision, batches=4, seconds=1.0):
    """One epoch of the package's training (``SeparationModule``, ``fit``) in ``precision``; ``(status, detail)``."""
    import torch

    from asteroid_deepmask.training.trainer import SeparationModule, fit

    generator = torch.Generator().manual_seed(0)
    sources = torch.randn(2 * batches, 2, int(seconds * SAMPLE_RATE), generator=generator)
    data = torch.utils.data.TensorDataset(sources.sum(1), sources)
    # A whole experiment file, as the recipes give it: SeparationModule checks it through the schema.
    hparams = {"model": {"name": type(model).__name__, **model.get_model_args()},
               "data": {"dataset": "gpu_check", "sample_rate": SAMPLE_RATE, "mode": "min", "n_src": model.masker.n_src,
                        "segment": seconds},
               "training": {"max_epochs": 1, "early_stop_patience": 1, "precision": precision, "batch_size": 2},
               "optim": {"lr": 1e-3}, "scheduler": {}}
    module = SeparationModule(model, hparams)
    with tempfile.TemporaryDirectory() as exp_dir:
        trainer = fit(module, torch.utils.data.DataLoader(data, batch_size=2),
                      torch.utils.data.DataLoader(data, batch_size=2), exp_dir, accelerator=accelerator, devices=1,
                      enable_progress_bar=False, enable_model_summary=False)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
    if not _finite(metrics.get("val_loss", float("nan"))):
        return "fail", f"val_loss {metrics.get('val_loss')}"
    return "pass", f"val_loss {metrics['val_loss']:.2f} dB, {trainer.global_step} steps"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank, world_size, port, result_path):
    """One process of :func:`ddp_check`: a step on its own batch, then every process's weights compared."""
    import torch
    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.cuda.set_device(rank)
    dist.init_process_group("nccl", rank=rank, world_size=world_size)
    try:
        model = paper_models()["ours"].cuda(rank)
        before = torch.cat([p.detach().flatten() for p in model.parameters()]).clone()
        ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[rank])
        sources = torch.randn(2, 2, 4 * SAMPLE_RATE, generator=torch.Generator().manual_seed(rank)).cuda(rank)
        step = training_step(ddp, sources.sum(1), sources, "32")
        step()  # the first step builds DDP's buckets
        start = time.perf_counter()
        loss = step()
        seconds = time.perf_counter() - start
        after = torch.cat([p.detach().flatten() for p in model.parameters()])
        gathered = [torch.empty_like(after) for _ in range(world_size)]
        dist.all_gather(gathered, after)
        if rank == 0:
            with open(result_path, "w") as f:
                json.dump({"same": all(torch.equal(g, after) for g in gathered),
                           "changed": not torch.equal(before, after), "loss": loss, "seconds": seconds}, f)
    finally:
        dist.destroy_process_group()


def ddp_check(gpus):
    """A 2-process DDP step (NCCL) when two GPUs are there; ``(status, detail)``."""
    import torch.multiprocessing as mp

    if gpus < 2:
        return "skip", f"{gpus} GPU visible; DDP needs 2"
    with tempfile.TemporaryDirectory() as tmp:
        result_path = os.path.join(tmp, "ddp.json")
        mp.spawn(_ddp_worker, args=(2, _free_port(), result_path), nprocs=2, join=True)
        with open(result_path) as f:
            result = json.load(f)
    if not (result["same"] and result["changed"] and _finite(result["loss"])):
        return "fail", (f"weights equal on both GPUs: {result['same']}, changed: {result['changed']}, "
                        f"loss {result['loss']}")
    return "pass", f"{1e3 * result['seconds']:.1f} ms/step over 2 GPUs, same weights on both"


def cli(*args):
    """Run ``asteroid-deepmask *args`` in a fresh process; raise with its last error line when it fails."""
    out = subprocess.run([sys.executable, "-m", "asteroid_deepmask.cli", *map(str, args)], capture_output=True,
                         text=True, cwd=REPO)
    if out.returncode:
        lines = (out.stderr or out.stdout or f"exit {out.returncode}").strip().splitlines()
        raise RuntimeError(f"asteroid-deepmask {args[0]} exited {out.returncode}: {lines[-1] if lines else ''}")


def separated(folder):
    """The sources written into ``folder`` (``[n_src, time]``), in the order of their file names."""
    import numpy as np
    import soundfile as sf

    return np.stack([sf.read(os.path.join(folder, name), dtype="float64")[0] for name in sorted(os.listdir(folder))])


def agreement_db(estimates, reference):
    """SI-SDR (dB) of ``estimates`` against ``reference`` (both ``[n_src, time]``), mean over the sources.

    Example:
        >>> import numpy as np
        >>> reference = np.random.default_rng(0).standard_normal((2, 800))
        >>> round(agreement_db(2 * reference + 1e-3 * reference[::-1], reference))
        66
    """
    import numpy as np

    scale = (estimates * reference).sum(-1, keepdims=True) / (reference**2).sum(-1, keepdims=True)
    target = scale * reference
    error = ((estimates - target) ** 2).sum(-1)
    return float(np.mean(10 * np.log10(((target**2).sum(-1) + 1e-30) / (error + 1e-30))))


def separate_check(model_file, wav, reference, device, workdir):
    """``asteroid-deepmask separate --device`` of ``wav`` with ``model_file`` (``.pth`` or ``.onnx``),
    compared with the sources in the folder ``reference``; ``(status, detail)``.

    An ONNX model on CUDA needs ONNX Runtime's CUDA provider: the check is skipped without it.
    """
    if str(model_file).endswith(".onnx") and device.startswith("cuda"):
        import onnxruntime

        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            return "skip", "skipped: onnxruntime has no CUDAExecutionProvider"
        # A provider whose CUDA libraries do not load falls back to the CPU with a mere warning.
        session = onnxruntime.InferenceSession(str(model_file), providers=["CUDAExecutionProvider"])
        if session.get_providers()[0] != "CUDAExecutionProvider":
            return "fail", f"the CUDA provider did not load (ONNX Runtime runs {session.get_providers()})"
    out = tempfile.mkdtemp(dir=workdir)
    cli("separate", wav, "--model", model_file, "-o", out, "--device", device)
    agreement = agreement_db(separated(out), separated(reference))
    status = "pass" if agreement > LEAST_AGREEMENT_DB else "fail"
    return status, f"{agreement:.1f} dB from the CPU's sources (the time includes the command's start-up)"


def separation_inputs(workdir, seconds=10.0):
    """``(model .pth, model .onnx, wav, folder of the CPU's sources)``: the paper baseline, saved and
    exported, 10 s of noise, and its separation on the CPU."""
    import numpy as np
    import soundfile as sf
    import torch

    model_file, onnx_file = os.path.join(workdir, "baseline.pth"), os.path.join(workdir, "baseline.onnx")
    torch.save(paper_models()["ours"].serialize(), model_file)
    cli("export", "--model", model_file, "-o", onnx_file)
    wav = os.path.join(workdir, "noise.wav")
    sf.write(wav, 0.1 * np.random.default_rng(0).standard_normal(int(seconds * SAMPLE_RATE)), SAMPLE_RATE)
    reference = os.path.join(workdir, "cpu")
    cli("separate", wav, "--model", model_file, "-o", reference, "--device", "cpu")
    return model_file, onnx_file, wav, reference


def stream_inputs(workdir, wav):
    """``(hub folder, TorchScript streaming export, folder of the CPU stream's sources)`` of a seeded causal
    model (the paper's layout, causal, MLP head) streaming ``wav``."""
    import torch

    from asteroid_deepmask import DPRNNDeepMask

    torch.manual_seed(0)
    model = DPRNNDeepMask(n_src=2, causal=True, mask_head="mlp", sample_rate=SAMPLE_RATE).eval()
    hub, script = os.path.join(workdir, "causal_hub"), os.path.join(workdir, "causal_stream.pt")
    model.save_pretrained(hub)
    cli("export", "--model", hub, "--streaming", "--block-ms", "10", "-o", script)
    reference = os.path.join(workdir, "stream_cpu")
    cli("stream", wav, "--model", hub, "-o", reference, "--device", "cpu")
    return hub, script, reference


def stream_check(source, wav, reference, device, workdir):
    """``asteroid-deepmask stream --device`` of ``wav`` with ``source`` (hub folder or TorchScript streaming
    export), compared with the CPU stream's sources in ``reference``; ``(status, detail)``."""
    out = tempfile.mkdtemp(dir=workdir)
    cli("stream", wav, "--model", source, "-o", out, "--device", device)
    agreement = agreement_db(separated(out), separated(reference))
    status = "pass" if agreement > LEAST_AGREEMENT_DB else "fail"
    return status, f"{agreement:.1f} dB from the CPU stream's sources (the time includes the command's start-up)"


def main(argv=None):
    parser = benchmark_parser(__doc__)
    parser.add_argument("--reps", type=int, default=5, help="timed training steps of each model (default 5)")
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("gpu_check: no CUDA GPU found (torch.cuda.is_available() is False); nothing to check.")
        if args.record:
            print(f"gpu_check: no record written to {args.record}", file=sys.stderr)
        return 0
    gpus = torch.cuda.device_count()
    print(f"gpu_check: {gpus} x {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    start = time.perf_counter()
    rows = []
    for precision in PRECISIONS:
        rows.append(check_row(f"train {precision}", training_check, paper_models(), "cuda", precision, reps=args.reps))
    for precision in PRECISIONS:
        rows.append(check_row(f"fit {precision}", fit_check, paper_models()["ours"], "gpu", precision))
    rows.append(check_row("ddp 2 GPUs", ddp_check, gpus))
    with tempfile.TemporaryDirectory() as workdir:
        try:
            model_file, onnx_file, wav, reference = separation_inputs(workdir)
        except Exception as err:  # without the CPU's reference neither separation can be judged
            rows.append(check_row("separate (setup)", lambda: ("fail", f"{type(err).__name__}: {err}")))
        else:
            rows.append(check_row("separate torch cuda", separate_check, model_file, wav, reference, "cuda", workdir))
            rows.append(check_row("separate onnx cuda", separate_check, onnx_file, wav, reference, "cuda", workdir))
            try:
                hub, script, stream_reference = stream_inputs(workdir, wav)
            except Exception as err:  # without the CPU stream's sources neither stream can be judged
                rows.append(check_row("stream (setup)", lambda: ("fail", f"{type(err).__name__}: {err}")))
            else:
                rows.append(check_row("stream torch cuda", stream_check, hub, wav, stream_reference, "cuda", workdir))
                rows.append(check_row("stream torchscript cuda", stream_check, script, wav, stream_reference, "cuda",
                                      workdir))
    statuses = [row["status"] for row in rows]
    total = time.perf_counter() - start
    print(result_line("total", "fail" if "fail" in statuses else "pass", total,
                      f"{statuses.count('pass')} passed, {statuses.count('fail')} failed, {statuses.count('skip')} "
                      f"skipped{', over the 5-minute budget' if total > 300 else ''}"))
    save_record(args.record, "gpu_check", rows, total_s=total, gpus=gpus)
    return 1 if "fail" in statuses else 0


if __name__ == "__main__":
    sys.exit(main())
