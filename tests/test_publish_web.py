"""`publish --web`: the live browser page in a model's hub folder, and the card's section on it.

The page is built from onnxruntime-web in the cache (``python -m asteroid_deepmask.deployment.web_runtime``, which
scripts/setup.sh runs); nothing here opens a browser (tests/deployment/test_web.py does) or the network.
"""
import json
import os

import numpy as np
import pytest
import torch

from asteroid_deepmask.cli import main
from asteroid_deepmask.deployment import web_runtime
from asteroid_deepmask.deployment.streamers import load_streamer
from asteroid_deepmask.hub import HUB_FILES
from asteroid_deepmask.models import DeepMaskEncoderMaskerDecoder
from asteroid_deepmask.utils.errors import SetupError

SECTION = "## Live in the browser"


@pytest.fixture(scope="module", autouse=True)
def _runtime_cached():
    try:
        web_runtime.find_runtime()
    except SetupError as err:
        pytest.fail(f"{err} (for the tests, `python -m asteroid_deepmask.deployment.web_runtime [TARBALL]` fills "
                    "the cache)", pytrace=False)


def _experiment(folder, model):
    folder.mkdir()
    torch.save(model.serialize(), folder / "best_model.pth")
    return folder


@pytest.fixture
def causal_exp(tiny_dprnn, tmp_path):
    return _experiment(tmp_path / "causal", tiny_dprnn(causal=True, mask_head="mlp", head_hidden=8))


def _stream(streamer, mix, cut=333):
    """``[n_src, time]``: ``mix`` fed in uneven pieces, then flushed."""
    with torch.no_grad():
        pieces = [streamer.process(mix[:, i:i + cut]) for i in range(0, mix.shape[-1], cut)] + [streamer.flush()]
    return torch.cat(pieces, -1)[0].numpy()


def test_publish_web_writes_the_page_and_the_card_links_to_it(causal_exp, capsys):
    assert main(["publish", str(causal_exp), "--dry-run", "--web"]) == 0
    hub = causal_exp / "hub"
    assert sorted(os.listdir(hub)) == sorted([*HUB_FILES, "web"]) and "web" in capsys.readouterr().out
    assert sorted(os.listdir(causal_exp)) == ["best_model.pth", "hub"]  # no scratch folder left beside it
    page = hub / "web"
    assert {"index.html", "app.js", "worker.js", "model.onnx", "model.json"} <= set(os.listdir(page))
    assert sorted(os.listdir(page / "ort")) == sorted([*web_runtime.RUNTIME_FILES, web_runtime.MANIFEST])
    for name in web_runtime.RUNTIME_FILES:  # the runtime itself, not a stand-in
        cached = os.path.join(web_runtime.cache_dir(), name)
        assert (page / "ort" / name).read_bytes() == open(cached, "rb").read()
    # the page's step is this experiment's model, float32, in blocks of 10 ms (80 samples at 8 kHz)
    meta = json.loads((page / "model.json").read_text())["metadata"]
    assert meta["block"] == 80 and "quantization" not in meta
    model = DeepMaskEncoderMaskerDecoder.from_pretrained(str(causal_exp / "best_model.pth")).eval()
    mix = torch.randn(1, 1000)
    np.testing.assert_allclose(_stream(load_streamer(str(page / "model.onnx")), mix),
                               _stream(model.streamer(), mix), atol=1e-5, rtol=0)
    assert json.loads((hub / "config.json").read_text())["web"] == {"folder": "web", "block": 80}
    card = (hub / "README.md").read_text()
    section = card[card.index(SECTION):]
    assert "`web/` is a static web page" in section and "blocks of 10 ms" in section
    assert "python -m http.server -d web 8000" in section and "open http://localhost:8000" in section
    assert "no audio is uploaded" in section and "visitor's own CPU" in section
    assert 'Space with the SDK "static"' in section and "files of `web/` to its root" in section


def test_without_web_there_is_no_page_and_no_section(causal_exp):
    assert main(["publish", str(causal_exp), "--dry-run"]) == 0
    hub = causal_exp / "hub"
    assert sorted(os.listdir(hub)) == sorted(HUB_FILES)
    assert SECTION not in (hub / "README.md").read_text() and "web" not in json.loads((hub / "config.json").read_text())


def test_a_model_that_is_not_causal_is_refused_as_web_refuses_it_and_nothing_is_written(tiny_dprnn, tmp_path, capsys):
    exp = _experiment(tmp_path / "offline", tiny_dprnn())
    assert main(["publish", str(exp), "--dry-run", "--web"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "causal=True" in error and "Traceback" not in error
    assert os.listdir(exp) == ["best_model.pth"]  # no hub folder, not even an empty one, and no scratch
    assert main(["web", "--model", str(exp / "best_model.pth"), "-o", str(tmp_path / "site")]) == 2
    assert capsys.readouterr().err.split("error: ", 1)[1] == error.split("error: ", 1)[1]  # one message, reused


def test_runtime_without_web_is_refused(causal_exp, capsys):
    assert main(["publish", str(causal_exp), "--dry-run", "--runtime", "onnxruntime-web-1.30.0.tgz"]) == 2
    assert "--runtime is where the browser page's runtime comes from: add --web" in capsys.readouterr().err
    assert os.listdir(causal_exp) == ["best_model.pth"]


def test_a_republish_replaces_its_page_and_a_foreign_web_folder_is_kept(causal_exp, capsys):
    hub = causal_exp / "hub"
    assert main(["publish", str(causal_exp), "--dry-run", "--web"]) == 0
    (hub / "web" / "stale.txt").write_text("from the earlier page")
    assert main(["publish", str(causal_exp), "--dry-run", "--web", "--force"]) == 0
    assert "stale.txt" not in os.listdir(hub / "web") and (hub / "web" / "index.html").is_file()
    mine = causal_exp / "mine"
    (mine / "web").mkdir(parents=True)
    (mine / "web" / "notes.txt").write_text("keep me")
    capsys.readouterr()
    assert main(["publish", str(causal_exp), "--dry-run", "--web", "--force", "--out", str(mine)]) == 2
    assert "is not a page this package wrote; move it away" in capsys.readouterr().err
    assert os.listdir(mine) == ["web"] and os.listdir(mine / "web") == ["notes.txt"]


def test_the_upload_holds_the_page(causal_exp, monkeypatch):
    """Everything up to the network: the folder handed to huggingface_hub has the page and the card's section."""
    import huggingface_hub

    sent = {}
    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", lambda self, repo_id, **kwargs: None)

    def upload_folder(self, *, repo_id, folder_path, **kwargs):
        sent["files"] = sorted(os.listdir(folder_path))
        sent["page"] = sorted(os.listdir(os.path.join(folder_path, "web")))
        sent["card"] = open(os.path.join(folder_path, "README.md")).read()

    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", upload_folder)
    assert main(["publish", str(causal_exp), "--repo-id", "someone/live", "--web"]) == 0
    assert sent["files"] == sorted([*HUB_FILES, "web"]) and {"index.html", "model.onnx", "ort"} <= set(sent["page"])
    assert SECTION in sent["card"]


def test_stage_4_leaves_the_page_out_and_removes_a_stale_one(causal_exp):
    from asteroid_deepmask.recipe.publishing import package_experiment

    assert main(["publish", str(causal_exp), "--dry-run", "--web"]) == 0  # into exp/hub, as stage 4 writes
    hub = package_experiment(str(causal_exp))
    assert sorted(os.listdir(hub)) == sorted([*HUB_FILES, "model_streaming.onnx"])
    assert SECTION not in open(os.path.join(hub, "README.md")).read()
