import json
import os

import asteroid.models
import pytest
import torch
import yaml

from asteroid_deepmask import (ConvTasNetDeepMask, DeepMaskTasNet, DPRNNDeepMask, SimoSisoTasNet, SlicedAttentionTasNet,
                               __version__, hub)
from asteroid_deepmask.cli import main
from asteroid_deepmask.hub import HUB_FILES, measure_complexity, save_pretrained
from asteroid_deepmask.models import DeepMaskEncoderMaskerDecoder, load_pretrained

RESULTS = {"dataset": "mini2mix", "metrics": {"si_sdri": 4.25, "sdri": 4.75}}
MODELS = [
    lambda tiny_dprnn: tiny_dprnn(n_src=2, n_outputs=4, mask_head="mlp", head_hidden=4),
    lambda _: ConvTasNetDeepMask(n_src=2, n_filters=16, n_blocks=2, n_repeats=1, bn_chan=8, hid_chan=8, skip_chan=8),
    lambda _: DeepMaskTasNet(n_src=2, trunk="dprnn", trunk_args=dict(hid_size=4, n_repeats=1), n_filters=16),
    lambda _: SimoSisoTasNet(n_src=2, n_simo=1, n_siso=1, n_filters=16, bn_chan=16, hid_size=8, chunk_size=10),
    lambda _: SlicedAttentionTasNet(n_src=2, embed_chan=4, n_blocks=1, slice_len=9, n_filters=16),
]


def front_matter(card):
    _, front, body = card.split("---\n", 2)
    return yaml.safe_load(front), body


@pytest.mark.parametrize("make", MODELS)
def test_save_and_load_every_model(make, tiny_dprnn, tmp_path):
    model = make(tiny_dprnn).eval()
    assert model.save_pretrained(tmp_path, results=RESULTS) == str(tmp_path)
    assert sorted(os.listdir(tmp_path)) == sorted(HUB_FILES)
    wav = torch.randn(1, 640)
    expected = model(wav)
    cls = type(model)
    for loaded in (
        cls.from_pretrained(str(tmp_path)),
        DeepMaskEncoderMaskerDecoder.from_pretrained(tmp_path),
        asteroid.models.BaseModel.from_pretrained(str(tmp_path / "pytorch_model.bin")),
    ):
        assert type(loaded) is cls and torch.equal(loaded.eval()(wav), expected)
    # The Asteroid package is plain types: torch's weights-only loader reads it.
    assert torch.load(tmp_path / "pytorch_model.bin", weights_only=True)["model_name"] == cls.__name__


def test_model_card_front_matter_and_numbers(tiny_dprnn, tmp_path):
    model = tiny_dprnn(n_src=2)
    save_pretrained(model, tmp_path, results=RESULTS, training={"optim": {"lr": 0.001}},
                    complexity=measure_complexity(model, seconds=0.5))
    front, body = front_matter((tmp_path / "README.md").read_text())
    assert front["library_name"] == "asteroid" and front["datasets"] == ["mini2mix"]
    assert {"asteroid", "speechbrain", "audio-to-audio", "audio-source-separation"} <= set(front["tags"])
    metrics = front["model-index"][0]["results"][0]["metrics"]
    assert {m["type"]: m["value"] for m in metrics} == RESULTS["metrics"]
    assert "| si_sdri | 4.25 |" in body and "| sdri | 4.75 |" in body
    config = json.loads((tmp_path / "config.json").read_text())
    params = sum(p.numel() for p in model.parameters()) / 1e6
    assert config["complexity"]["params_m"] == pytest.approx(params, abs=1e-4) and config["complexity"]["seconds"] == 0.5
    assert f"{config['complexity']['macs_g']:.2f} G MACs" in body and "lr: 0.001" in body


def test_card_without_results_claims_none(tiny_dprnn, tmp_path):
    save_pretrained(tiny_dprnn(n_src=2), tmp_path)
    front, body = front_matter((tmp_path / "README.md").read_text())
    assert "model-index" not in front and "metrics" not in front and "## Results" not in body
    assert "## Complexity" not in body and "complexity" not in json.loads((tmp_path / "config.json").read_text())


def test_loading_refuses_other_classes_and_broken_folders(tiny_dprnn, tmp_path):
    save_pretrained(tiny_dprnn(n_src=2), tmp_path)
    with pytest.raises(ValueError, match="holds a DPRNNDeepMask, not a SimoSisoTasNet"):
        SimoSisoTasNet.from_pretrained(str(tmp_path))
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load_pretrained(str(tmp_path))
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="config.json is corrupt or truncated"):
        load_pretrained(str(tmp_path))
    (tmp_path / "config.json").unlink()
    with pytest.raises(ValueError, match="no config.json: it is not a hub folder"):
        load_pretrained(str(tmp_path))


@pytest.fixture
def exp_dir(tiny_dprnn, tmp_path):
    exp = tmp_path / "exp"
    exp.mkdir()
    torch.save(tiny_dprnn(n_src=2).serialize(), exp / "best_model.pth")
    (exp / "results.json").write_text(json.dumps(RESULTS))
    (exp / "hparams.yaml").write_text("optim:\n  lr: 0.001\n")
    return exp


def test_publish_dry_run(exp_dir, capsys):
    assert main(["publish", str(exp_dir), "--dry-run"]) == 0
    hub = exp_dir / "hub"
    assert sorted(os.listdir(hub)) == sorted(HUB_FILES)
    front, _ = front_matter((hub / "README.md").read_text())
    assert {m["type"]: m["value"] for m in front["model-index"][0]["results"][0]["metrics"]} == RESULTS["metrics"]
    assert json.loads((hub / "config.json").read_text())["complexity"]["seconds"] == 4.0  # measured by publish
    assert main(["publish", str(exp_dir), "--dry-run"]) == 2  # refuses to overwrite
    assert "pass --force" in capsys.readouterr().err


def test_publish_uploads_a_complete_folder(exp_dir, monkeypatch):
    """Everything up to the network: the folder handed to huggingface_hub is complete."""
    import huggingface_hub

    sent = {}

    def create_repo(self, repo_id, **kwargs):
        sent["created"] = repo_id

    def upload_folder(self, *, repo_id, folder_path, **kwargs):
        sent["files"] = sorted(os.listdir(folder_path))
        sent["card"] = open(os.path.join(folder_path, "README.md")).read()
        sent["model"] = DPRNNDeepMask.from_pretrained(folder_path)

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", create_repo)
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", upload_folder)
    assert main(["publish", str(exp_dir), "--repo-id", "someone/deepmask-test"]) == 0
    assert sent["created"] == "someone/deepmask-test" and sent["files"] == sorted(HUB_FILES)
    assert "| si_sdri | 4.25 |" in sent["card"] and isinstance(sent["model"], DPRNNDeepMask)


def test_publish_errors(tmp_path, capsys):
    assert main(["publish", str(tmp_path), "--dry-run"]) == 2
    assert "No best_model.pth" in capsys.readouterr().err
    assert main(["publish", str(tmp_path)]) == 2
    assert "--repo-id" in capsys.readouterr().err


def test_hub_repository_ids_are_downloaded_with_their_revision(tiny_dprnn, tmp_path, monkeypatch):
    import huggingface_hub

    model = tiny_dprnn(n_src=2).eval()
    save_pretrained(model, tmp_path)
    calls = {}

    def snapshot_download(repo_id, revision=None, allow_patterns=None, cache_dir=None, force_download=False,
                          local_files_only=False, token=None, **kwargs):
        calls.update(repo_id=repo_id, revision=revision, patterns=sorted(allow_patterns),
                     options=(cache_dir, force_download, local_files_only, token))
        return str(tmp_path)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    loaded = DPRNNDeepMask.from_pretrained("someone/deepmask", revision="v1", cache_dir="cache", force_download=True,
                                           local_files_only=True, token="hf_x").eval()
    assert calls == {"repo_id": "someone/deepmask", "revision": "v1", "patterns": ["README.md", "config.json", "model.safetensors"],
                     "options": ("cache", True, True, "hf_x")}
    wav = torch.randn(1, 400)
    assert torch.equal(loaded(wav), model(wav))


def test_hub_folder_with_onnx(exp_dir, capsys):
    import onnxruntime as ort

    out = exp_dir / "hub_onnx"
    assert main(["publish", str(exp_dir), "--dry-run", "--onnx", "--out", str(out)]) == 0
    assert sorted(os.listdir(out)) == sorted([*HUB_FILES, "model.onnx"]) and "model.onnx" in capsys.readouterr().out
    card = (out / "README.md").read_text()
    assert "## ONNX" in card and 'InferenceSession("model.onnx")' in card
    assert json.loads((out / "config.json").read_text())["onnx"] == "model.onnx"
    model = DeepMaskEncoderMaskerDecoder.from_pretrained(str(out)).eval()
    mix = torch.randn(2, 3001)
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(session.run(None, {"mixture": mix.numpy()})[0]), model(mix),
                                   atol=1e-4, rtol=0)
    plain = exp_dir / "hub_plain"
    assert main(["publish", str(exp_dir), "--dry-run", "--out", str(plain)]) == 0
    assert "model.onnx" not in os.listdir(plain) and "## ONNX" not in (plain / "README.md").read_text()


def test_the_methods_are_the_hub_functions():
    for model_class in (DeepMaskEncoderMaskerDecoder, DPRNNDeepMask, DeepMaskTasNet):
        assert model_class.save_pretrained is hub.save_pretrained and model_class.push_to_hub is hub.push_to_hub


def test_push_to_hub_method_uploads_the_hub_folder(tiny_dprnn, monkeypatch):
    """huggingface_hub's calls stand in for the network: the repository, options and folder they get."""
    import huggingface_hub

    model, sent = tiny_dprnn(n_src=2).eval(), {}

    def init(self, token=None, library_name=None, library_version=None, **kwargs):
        sent.update(token=token, library=(library_name, library_version))

    def create_repo(self, repo_id, private=None, exist_ok=False, **kwargs):
        sent.update(created=repo_id, private=private, exist_ok=exist_ok)

    def upload_folder(self, *, repo_id, folder_path, revision=None, create_pr=None, commit_message=None, **kwargs):
        sent.update(repo_id=repo_id, revision=revision, create_pr=create_pr, message=commit_message,
                    files=sorted(os.listdir(folder_path)), model=DPRNNDeepMask.from_pretrained(folder_path),
                    config=json.loads(open(os.path.join(folder_path, "config.json")).read()))
        return "https://huggingface.co/someone/deepmask/commit/0"

    monkeypatch.setattr(huggingface_hub.HfApi, "__init__", init)
    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", create_repo)
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", upload_folder)
    url = model.push_to_hub("someone/deepmask", private=True, revision="dev", token="hf_x", create_pr=True,
                            results=RESULTS)
    assert url.endswith("/commit/0") and sent["files"] == sorted(HUB_FILES)
    assert (sent["created"], sent["private"], sent["exist_ok"]) == ("someone/deepmask", True, True)
    assert (sent["repo_id"], sent["revision"], sent["create_pr"], sent["token"]) == ("someone/deepmask", "dev", True, "hf_x")
    assert sent["message"] == f"Upload DPRNNDeepMask with asteroid-deepmask {__version__}"
    assert sent["library"] == ("asteroid-deepmask", __version__)
    assert sent["config"]["results"] == RESULTS
    wav = torch.randn(1, 500)
    assert torch.equal(sent["model"].eval()(wav), model(wav))


def test_a_failed_save_leaves_the_previous_folder_whole(tiny_dprnn, tmp_path, monkeypatch):
    from asteroid_deepmask.models import hub_folder

    tiny_dprnn(n_src=2).save_pretrained(tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # a kill once the weights and config are written, before the card

    monkeypatch.setattr(hub_folder, "model_card", killed)
    with pytest.raises(KeyboardInterrupt):
        tiny_dprnn(n_src=2, n_outputs=4).save_pretrained(tmp_path, onnx=True)
    assert {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)} == before


def test_save_refuses_a_complexity_that_is_not_a_record(tiny_dprnn, tmp_path):
    with pytest.raises(ValueError, match=r"complexity=4.0 is not a record of seconds, params_m, macs_g: pass "
                                         r"asteroid_deepmask.hub.measure_complexity\(model, seconds\)"):
        tiny_dprnn(n_src=2).save_pretrained(tmp_path, None, None, "cc-by-sa-4.0", 4.0)  # 0.1.0's complexity_seconds
    assert not os.listdir(tmp_path)


def test_keyword_arguments_override_a_hub_folders_model_args(tiny_dprnn, tmp_path):
    tiny_dprnn(n_src=2).save_pretrained(tmp_path)
    loaded = DPRNNDeepMask.from_pretrained(str(tmp_path), mask_act="sigmoid")
    assert loaded.get_model_args()["mask_act"] == "sigmoid" and DPRNNDeepMask.from_pretrained(
        str(tmp_path)).get_model_args()["mask_act"] == "relu"
