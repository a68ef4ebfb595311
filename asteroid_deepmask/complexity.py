"""Parameters and MACs of a model, counted as the paper did (thop, one 4-second mono input).

``thop`` counts the layers it has rules for (convolutions, linear layers, RNNs, norms...); the
filterbank encoder/decoder of asteroid_filterbanks run as functional convolutions, which thop
does not see (0.004 G MACs each at 4 s and 2 k parameters for the paper's 64 x 16 filterbank), exactly
as in the paper's numbers. The attention products of the sliced-attention masker are counted by
a rule of ours (thop cannot see functional calls). ``params_total_m`` counts every parameter.

Two MAC counts: ``macs_g`` is the paper's counting, with DPRNN's per-output projections
(the ``n_outputs * chan`` 1x1 convolution) on the chunked sequence, where the paper's layout
puts them, and the mask head's layers after them; ``macs_run_g`` counts what runs: that
projection after overlap-add, on the frames (about half as many positions), and folded into
the head's first layer where the masker folds them (one ``K -> out`` product per output
instead of ``K -> H`` then ``H -> out``). thop runs on a copy with folding off and sees
neither the projection (a functional product) nor its parameters: forward hooks record the
shape of each DualPathRNN and masker input, and the layouts are counted from them.
"""
import contextlib
import copy
import glob
import io
import os

import torch

from .experiment.hparams import hparams_dir, load_hparams
from .masknn import DualPathRNN, OverseparationMasker, SlicedDotProductAttention
from .models import build_model
from .utils.library_noise import library_warnings_ignored


def _count_sliced_attention(module, inputs, output):
    """thop rule for the attention products, which run as a functional call thop cannot see:
    ``Q K^T`` and ``weights V``, each ``slice_len^2 * token size`` MACs per slice and head."""
    q = inputs[0]
    batch, chan, rows, n_frames = q.shape
    length, count = module.layout(n_frames)
    module.total_ops += torch.DoubleTensor([2 * batch * count * length * length * chan * rows])


def _projection_macs(module, shape):
    """MACs of a DualPathRNN's per-output projection on a ``[batch, chan, frames]`` input:
    ``(paper, run)``, on the chunked sequence and on the frames. Like thop, no bias MACs."""
    batch, _, n_frames = shape
    conv = module.output[1]
    # split_chunks pads chunk_size frames on both sides: (frames + chunk) // hop + 1 chunks.
    n_chunks = (n_frames + module.chunk_size) // module.hop_size + 1
    per_position = batch * conv.out_channels * conv.in_channels
    return per_position * module.chunk_size * n_chunks, per_position * n_frames


def _fold_saving(masker, shape):
    """MACs that folding saves in one call of ``masker`` on ``[batch, n_filters, frames]``: the
    trunk's projection (``P H x K``) and the head's first layer (``P x width x H``), less their
    product (``P x width x K``), per frame. Zero for a masker that does not fold."""
    projection = masker.trunk.output_projection()
    folding = masker.head.foldable_layer()
    if projection is None or folding is None:
        return 0
    first = folding[0]
    stacked, k = projection.weight.shape[:2]
    width, n_outputs, h = first.out_channels // first.groups, masker.n_outputs, masker.head.in_chan
    return shape[0] * shape[-1] * (stacked * k + n_outputs * width * h - n_outputs * width * k)


@contextlib.contextmanager
def _inputs_of(model, module_type):
    """Records ``(module, input shape)`` of every ``module_type`` call inside the block."""
    calls = []
    handles = [
        m.register_forward_hook(lambda module, inputs, output: calls.append((module, tuple(inputs[0].shape))))
        for m in model.modules()
        if isinstance(m, module_type)
    ]
    try:
        yield calls
    finally:
        for handle in handles:
            handle.remove()


def count_complexity(model, seconds=4.0, sample_rate=None):
    """Count parameters and multiply-accumulates of one forward pass on a mono input.

    Args:
        model (torch.nn.Module): a waveform-to-waveform model with a ``sample_rate``.
        seconds (float): input length. Defaults to 4 s, the paper's setting.
        sample_rate (float, optional): defaults to ``model.sample_rate``.

    Returns:
        dict: ``params_m`` (thop's count, millions), ``params_total_m`` (all parameters,
        millions), ``macs_g`` (giga-MACs, the paper's counting: DPRNN's projections on the
        chunks) and ``macs_run_g`` (giga-MACs that run: those projections on the frames).

    Example:
        >>> from asteroid_deepmask import DPRNNDeepMask
        >>> c = count_complexity(DPRNNDeepMask(n_src=2, hid_size=8, n_repeats=1), seconds=0.5)
        >>> sorted(c)
        ['macs_g', 'macs_run_g', 'params_m', 'params_total_m']
        >>> c["macs_run_g"] < c["macs_g"]
        True
    """
    import thop

    sample_rate = sample_rate or getattr(model, "sample_rate", None)
    if not sample_rate:
        raise ValueError("The model has no sample_rate; pass sample_rate=... to count_complexity.")
    n_samples = int(round(seconds * sample_rate))
    if n_samples < 1:
        raise ValueError(f"seconds={seconds} gives an empty input at {sample_rate} Hz; use a positive length.")
    # thop adds and removes buffers and switches the model to eval: work on a copy.
    probe = copy.deepcopy(model).cpu()
    maskers = [m for m in probe.modules() if isinstance(m, OverseparationMasker)]
    model_folds = {id(m): m.fold_layers for m in maskers}
    for masker in maskers:  # thop sees the layers as modules only when they run one by one
        masker.fold_layers = False
    with library_warnings_ignored(), contextlib.redirect_stdout(io.StringIO()), \
            _inputs_of(probe, DualPathRNN) as calls, _inputs_of(probe, OverseparationMasker) as masker_calls:
        macs, params = thop.profile(
            probe,
            inputs=(torch.zeros(1, n_samples),),
            custom_ops={SlicedDotProductAttention: _count_sliced_attention},
            verbose=False,
        )
    # thop saw neither the projections (a functional product) nor their parameters.
    layouts = [_projection_macs(module, shape) for module, shape in calls]
    projections = {id(module): module.output[1] for module, _ in calls}.values()
    params += sum(p.numel() for conv in projections for p in conv.parameters())
    return dict(
        params_m=params / 1e6,
        params_total_m=sum(p.numel() for p in model.parameters()) / 1e6,
        macs_g=(macs + sum(paper for paper, _ in layouts)) / 1e9,
        macs_run_g=(macs + sum(run for _, run in layouts)
                    - sum(_fold_saving(m, shape) for m, shape in masker_calls if model_folds[id(m)])) / 1e9,
    )


def experiment_complexity(path, overrides=(), seconds=None):
    """Complexity row of one experiment file: its name, counts, and the paper's counts if any."""
    hp = load_hparams(path, overrides)
    paper = hp.get("paper") or {}
    seconds = seconds or hp.get("complexity", {}).get("seconds", 4.0)
    counts = count_complexity(build_model(hp["model"]), seconds=seconds)
    return dict(
        name=paper.get("name", os.path.splitext(os.path.basename(path))[0]),
        hparams=os.path.relpath(path, hparams_dir()) if paper else os.fspath(path),
        params_m=round(counts["params_m"], 4),
        params_total_m=round(counts["params_total_m"], 4),
        macs_g=round(counts["macs_g"], 4),
        macs_run_g=round(counts["macs_run_g"], 4),
        paper_params_m=paper.get("params_m"),
        paper_macs_g=paper.get("macs_g"),
    )


def paper_experiments():
    """Shipped experiment files that reproduce a row of the paper's tables, in table order."""
    rows = []
    # hparams/speechbrain/ holds HyperPyYAML files for SpeechBrain recipes, not our experiments.
    for path in glob.glob(os.path.join(hparams_dir(), "*", "*.yaml")):
        if os.path.basename(os.path.dirname(path)) == "speechbrain":
            continue
        paper = load_hparams(path).get("paper")
        if paper and paper.get("macs_g") is not None:  # rows with complexity columns (Tables 1, 2)
            rows.append((paper["table"], paper["row"], path))
    return [path for _, _, path in sorted(rows)]


def paper_table(seconds=None):
    """Complexity rows for every paper experiment (Tables 1 and 2)."""
    return [experiment_complexity(path, seconds=seconds) for path in paper_experiments()]


def format_table(rows):
    """Markdown table of complexity rows, with the paper's numbers where known.

    ``MACs (G)`` is the paper's counting; ``MACs run (G)`` what the model computes (DPRNN's
    projections after overlap-add, on the frames).
    """
    lines = [
        "| model | params (M) | MACs (G) | MACs run (G) | paper params (M) | paper MACs (G) | hparams |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        paper_p = "" if r["paper_params_m"] is None else f"{r['paper_params_m']:.1f}"
        paper_m = "" if r["paper_macs_g"] is None else f"{r['paper_macs_g']:.1f}"
        lines.append(
            f"| {r['name']} | {r['params_m']:.3f} | {r['macs_g']:.2f} | {r['macs_run_g']:.2f} | {paper_p} | {paper_m} "
            f"| {r['hparams']} |"
        )
    return "\n".join(lines)
