"""What the Examples gallery's scripts share: mini2mix test mixtures, SI-SDR, spectrograms on one
colour scale, and audio players that sphinx-gallery puts in the page.

It lives in a folder of its own (without a gallery header), so that sphinx-gallery neither runs
nor lists it; the scripts put this folder on ``sys.path``.
"""
import base64
import io
import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import soundfile as sf
import torch
from asteroid.losses import singlesrc_neg_sisdr


def describe(model, folder):
    """Print what ``model`` is (loaded from the hub folder ``folder``) and how the recipe's evaluation
    in ``folder/results.json`` scored it on the mini2mix test set; returns that evaluation."""
    folder = Path(folder)
    results = json.loads((folder / "results.json").read_text())
    summary = results["summary"]
    print(f"{type(model).__name__}: P = {model.masker.n_outputs} outputs, C = {model.masker.n_src} sources, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters, {int(model.sample_rate)} Hz; "
          f"{sum(f.stat().st_size for f in folder.iterdir()) / 1e3:.0f} kB on disk")
    print(f"{results['dataset']} test set ({summary['si_sdri']['n']} mixtures): SI-SDRi {summary['si_sdri']['mean']:.2f} dB "
          f"(95 % CI +- {summary['si_sdri']['ci95']:.2f}), SDRi {summary['sdri']['mean']:.2f} dB")
    print(f"evaluated {results['date'][:10]} on {results['host']['kind']} by {results['command'].split(' --')[0]}")
    return results


def mini2mix_test_mixtures(count):
    """``count`` mini2mix test mixtures of different pairs of voices: ``[(name, mixture, [s1, s2])]``.

    The recipe's stage 0 (``python -m asteroid_deepmask.recipe mini2mix``, the package's mini2mix
    generator) makes twice as many in a temporary folder, in a few seconds, with the recipe's seed,
    so that the voices are its test voices, never heard in training. It runs in a process of its
    own: eSpeak NG's output depends on what the process synthesised before, and a fresh process
    makes the same mixtures on every build. A name says the two voices (an eSpeak variant with its
    pitch and rate) and their levels in dB: ``<index>_<voice>_<dB>_<voice>_<dB>``.
    """
    with tempfile.TemporaryDirectory() as folder:  # the files are read into memory: nothing left behind
        corpus = Path(folder) / "mini2mix"
        subprocess.run([sys.executable, "-m", "asteroid_deepmask.recipe", "mini2mix", "--out", str(corpus),
                        "--mixtures", "0", "0", str(2 * count)], check=True, capture_output=True)
        test = corpus / "wav8k" / "min" / "tt"
        examples, pairs = [], set()
        for path in sorted((test / "mix").glob("*.wav")):
            voices = frozenset(path.stem.split("_")[1::2])
            if voices in pairs:
                continue
            pairs.add(voices)
            mixture = sf.read(path, dtype="float32")[0]
            sources = [sf.read(test / s / path.name, dtype="float32")[0] for s in ("s1", "s2")]
            examples.append((path.stem, mixture, sources))
            if len(examples) == count:
                break
    return examples


def si_sdr(estimate, reference):
    """SI-SDR of ``estimate`` against ``reference`` (1-D arrays), in dB: the energy of the
    estimate's projection on the reference over the energy of the rest (Asteroid's, the training loss negated)."""
    return -float(singlesrc_neg_sisdr(torch.as_tensor(estimate)[None], torch.as_tensor(reference)[None]))


def best_order(estimates, references):
    """The order of ``estimates`` that matches ``references`` best (highest mean SI-SDR), as a tuple
    of indices: a separation model does not know which source is "first"."""
    return max(itertools.permutations(range(len(references))),
               key=lambda o: np.mean([si_sdr(estimates[i], r) for i, r in zip(o, references)]))


def spectrogram_db(wav):
    """Magnitude STFT in dB: 32 ms Hann windows every 8 ms at 8 kHz."""
    spec = torch.stft(torch.as_tensor(wav, dtype=torch.float32), n_fft=256, hop_length=64,
                      window=torch.hann_window(256), return_complex=True)
    return 20 * np.log10(spec.abs().numpy() + 1e-6)


def plot_spectrograms(title, panels, rate, columns=2, note=None):
    """One figure of spectrograms on one colour scale (80 dB below the loudest bin), row by row.

    Args:
        panels (list): ``(label, waveform)`` pairs, all of one length; None leaves a place empty.
        note (str, optional): text written in the first empty place.
    """
    specs = [None if panel is None else spectrogram_db(panel[1]) for panel in panels]
    vmax = max(s.max() for s in specs if s is not None)
    length = next(len(panel[1]) for panel in panels if panel is not None)
    extent = (0, length / rate, 0, rate / 2000)
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(9, 2.1 * rows), sharex=True, sharey=True,
                             layout="constrained", squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= len(panels) or panels[i] is None:
            ax.axis("off")
            if note:
                ax.text(0.05, 0.5, note, transform=ax.transAxes, va="center", fontsize=10)
                note = None
            continue
        image = ax.imshow(specs[i], origin="lower", aspect="auto", extent=extent, vmin=vmax - 80, vmax=vmax,
                          cmap="magma")
        ax.set_title(panels[i][0], fontsize=10)
    for ax in axes[:, 0]:
        ax.set_ylabel("frequency (kHz)")
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    fig.colorbar(image, ax=axes, location="right", shrink=0.6, label="magnitude (dB), one scale for all panels")
    fig.suptitle(title)
    return fig


def wav_data_uri(wav, rate, peak):
    """A 16-bit WAV file as a ``data:`` URI, scaled by 0.9 / ``peak``."""
    buffer = io.BytesIO()
    sf.write(buffer, 0.9 * np.asarray(wav) / peak, rate, format="WAV", subtype="PCM_16")
    return "data:audio/wav;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class Players:
    """A table of ``<audio>`` players, one per ``(label, waveform, note)`` row. sphinx-gallery puts
    its ``_repr_html_`` in the page when it is the last expression of a cell.

    Args:
        same_scale (bool): scale every clip by one factor (the loudest peaks at 0.9), so that a quiet
            output sounds quiet; False: each clip peaks at 0.9, so that every one is as loud.
    """

    def __init__(self, rows, rate, same_scale=False):
        self.rows, self.rate = rows, rate
        self.peak = max(np.abs(wav).max() for _, wav, _ in rows) + 1e-9 if same_scale else None

    def _repr_html_(self):
        cells = "".join(
            f'<tr><td>{label}</td><td><audio controls src="'
            f'{wav_data_uri(wav, self.rate, self.peak or np.abs(wav).max() + 1e-9)}"></audio></td><td>{note}</td></tr>'
            for label, wav, note in self.rows
        )
        return f'<table class="audio-players">{cells}</table>'
