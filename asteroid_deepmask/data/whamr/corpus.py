"""WHAMR! (noisy, reverberant wsj0-2mix): its layout, and the official WHAMR! scripts as a second way to make it.

WHAMR! is simulated from WSJ0 and the WHAM! noise corpus with the metadata its authors publish
(``whamr_scripts.tar.gz``: the room, noise and level of every mixture). By default the corpus is
made in this environment from that metadata (:mod:`asteroid_deepmask.data.whamr.mixing`); :func:`make_whamr` runs the
official scripts instead. Either way the layout is the official one:
``<root>/wav8k/min/{tr,cv,tt}/<folder>/<name>.wav`` with the folders below.

The scripts use pyroomacoustics' room API of 2019 (``ShoeBox(absorption=...)``, removed in later
releases), so they run in an environment of their own, given by its Python interpreter;
:func:`check_scripts_python` says what is missing before anything is written.
"""
import os
import subprocess
import sys

from ...utils.errors import SetupError
from ..corpus_folder import SPLITS, claim_folder, mark_complete
from ..download import download_and_unpack

WHAMR_SCRIPTS_URL = "https://my-bucket-a8b4b49c25c811ee9a7e8bba05fa24c7.s3.amazonaws.com/whamr_scripts.tar.gz"
ENTRY_POINT = "create_wham_from_scratch.py"
MARKER = "whamr.json"

#: ``data.mixture`` of an experiment file -> WHAMR! folder of the input mixtures.
MIXTURES = {
    "clean_anechoic": "mix_clean_anechoic",
    "noisy_anechoic": "mix_both_anechoic",
    "clean_reverberant": "mix_clean_reverb",
    "noisy_reverberant": "mix_both_reverb",
}
#: ``data.targets`` -> WHAMR! folders of the sources ({i} is 1, 2).
TARGETS = {"anechoic": "s{i}_anechoic", "reverberant": "s{i}_reverb"}


def layout(mixture, targets):
    """``(mixture folder, source folder pattern)`` of an experiment's ``data.mixture`` and ``data.targets``."""
    if mixture not in MIXTURES or targets not in TARGETS:
        raise ValueError(
            f"data.mixture={mixture!r}, data.targets={targets!r}: WHAMR! has mixtures {sorted(MIXTURES)} "
            f"and targets {sorted(TARGETS)}."
        )
    return MIXTURES[mixture], TARGETS[targets]


def fetch_scripts(dest):
    """Download and unpack the official scripts into ``dest/whamr`` (once); returns their folder."""
    unpacked = os.path.join(dest, "whamr")
    if not os.path.isdir(unpacked):
        download_and_unpack(WHAMR_SCRIPTS_URL, unpacked, "Get the WHAMR! scripts from http://wham.whisper.ai, "
                            "unpack them and pass the folder with --whamr-scripts.")
    for here, _, files in os.walk(unpacked):
        if ENTRY_POINT in files:
            return here
    raise FileNotFoundError(f"{WHAMR_SCRIPTS_URL} unpacked into {unpacked!r} holds no {ENTRY_POINT}.")


# Exit 3: pyroomacoustics is there but has not the room API the scripts use.
_PROBE = ("import inspect, pandas, scipy, soundfile, pyroomacoustics as pra; print(pra.__version__); "
          "raise SystemExit(0 if 'absorption' in inspect.signature(pra.ShoeBox.__init__).parameters else 3)")


def check_scripts_python(python):
    """Raise a RuntimeError naming the fix unless ``python`` can run the official WHAMR! scripts."""
    probe = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True)
    if probe.returncode == 0:
        return
    if probe.returncode == 3:
        reason = f"its pyroomacoustics {probe.stdout.strip()} no longer has ShoeBox(absorption=...)"
    else:
        lines = (probe.stderr or "it does not start").strip().splitlines()
        reason = lines[-1] if lines else f"exit {probe.returncode}"
    raise SetupError(
        f"{python} cannot run the official WHAMR! scripts: {reason}. They need pyroomacoustics 0.3.1 (the "
        "room API of WHAMR!'s release, 2019), pandas, scipy and soundfile: make an environment with those "
        "(Python 3.7 was current then) and pass its interpreter with --whamr-python."
    )


def check_whamr_inputs(wsj0, wham_noise):
    """Raise FileNotFoundError, naming the option, unless both corpora WHAMR! is made from are there."""
    for option, path in (("--wsj0", wsj0), ("--wham-noise", wham_noise)):
        if not os.path.isdir(path):
            raise FileNotFoundError(
                f"{option} {path!r} is not a folder: WHAMR! is made from WSJ0 (LDC93S6A, converted to wav) "
                "and the WHAM! noise corpus (http://wham.whisper.ai)."
            )
    missing = [s for s in SPLITS if not os.path.isdir(os.path.join(wham_noise, s))]
    if missing:
        raise FileNotFoundError(f"--wham-noise {wham_noise!r} lacks {missing}: pass the unpacked wham_noise folder.")


def make_whamr(wsj0, wham_noise, scripts, out, python=sys.executable):
    """Run the official WHAMR! scripts in ``scripts`` to write the corpus into ``out``.

    Args:
        wsj0 (str): the WSJ0 root, the folder that holds ``wsj0/`` as ``.wav`` files.
        wham_noise (str): the unpacked WHAM! noise corpus (``wham_noise/{tr,cv,tt}``).
        scripts (str): the unpacked ``whamr_scripts`` folder (see :func:`fetch_scripts`).
        python (str): the interpreter of an environment that runs the scripts (see :func:`check_scripts_python`).

    Does nothing when ``out`` already holds the corpus it made; refuses a folder that is not ours.
    """
    check_whamr_inputs(wsj0, wham_noise)
    if not os.path.isfile(os.path.join(scripts, ENTRY_POINT)):
        raise FileNotFoundError(f"No {ENTRY_POINT} in {scripts!r}: pass the unpacked whamr_scripts folder.")
    settings = {"wsj0": os.path.abspath(wsj0), "wham_noise": os.path.abspath(wham_noise)}
    if os.path.isfile(os.path.join(out, MARKER)) and claim_folder(out, MARKER, settings):
        return  # made before: the scripts' environment is not needed
    check_scripts_python(python)  # before claiming: a failed check leaves no folder behind
    claim_folder(out, MARKER, settings)
    command = [python, ENTRY_POINT, "--wsj0-root", os.path.abspath(wsj0),
               "--wham-noise-root", os.path.abspath(wham_noise), "--output-dir", os.path.abspath(out)]
    result = subprocess.run(command, cwd=scripts)
    if result.returncode:
        raise SetupError(f"The WHAMR! scripts failed (exit {result.returncode}): {' '.join(command)} in {scripts}")
    mark_complete(out, MARKER, settings)
