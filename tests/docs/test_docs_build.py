"""The documentation builds offline with no warning (``./scripts/docs.sh``, as a user runs it),
and the pages the docs issue names are there: the API reference, the Benchmarks page with plots
made from ``docs/results/*.json``, and the Examples with spectrograms and audio players."""
import glob
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    env = dict(os.environ, DOCS_OUT=str(out))
    env.pop("PYTHONWARNINGS", None)
    proc = subprocess.run([os.path.join(ROOT, "scripts", "docs.sh"), "-q"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"docs build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    return str(out)


def _read(site, *parts):
    path = os.path.join(site, *parts)
    assert os.path.exists(path), f"{os.path.relpath(path, site)} is missing from the site"
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_every_page_of_the_issue_is_built(site):
    for page in ["index", "getting_started", "benchmarks", "changelog", "api/index", "auto_examples/index",
                 "contributing/architecture", "contributing/add_trunk_or_head",
                 *(f"guide/{name}" for name in ["models", "recipes", "training", "mixit", "live", "deploy",
                                               "speechbrain", "hub"])]:
        _read(site, f"{page}.html")


def test_api_reference_documents_the_main_names(site):
    text = "".join(_read(site, path[len(site) + 1:]) for path in glob.glob(os.path.join(site, "api", "generated", "*.html")))
    for name in ["DPRNNDeepMask", "DeepMaskTasNet", "MixITWrapper", "Streamer", "check_trunk", "ConvTasNetDeepMask"]:
        assert f'id="asteroid_deepmask.' in text and f".{name}\"" in text, f"no API entry for {name}"


def test_benchmarks_page_has_plots_from_the_records(site):
    html = _read(site, "benchmarks.html")
    records = glob.glob(os.path.join(ROOT, "docs", "results", "*.json"))
    assert records, "docs/results/ holds no result record"
    assert "<img" in html and ".png" in html, "the Benchmarks page shows no plot"
    assert "<table" in html, "the Benchmarks page shows no table"


def test_examples_have_spectrograms_and_sound(site):
    pages = [p for p in glob.glob(os.path.join(site, "auto_examples", "plot_*.html"))]
    assert pages, "no executed example page"
    html = "".join(open(p, encoding="utf-8").read() for p in pages)
    assert "<audio" in html, "the examples have no audio player"
    assert html.count("<img") >= 2, "the examples have no spectrogram images"
