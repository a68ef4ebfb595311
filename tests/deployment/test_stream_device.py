"""Streaming on the model's device (issue 36, item 1): blocks and state go where the model is, sources
come back to the CPU for writing, and an export refuses a device it cannot use, naming the one it can.
There is no GPU here: the torch path is checked on the 'meta' device; benchmarks/gpu_check.py runs CUDA."""
import pytest
import torch

from asteroid_deepmask import DPRNNDeepMask
from asteroid_deepmask.deployment import streaming
from asteroid_deepmask.deployment.separators import load_separator
from asteroid_deepmask.deployment.streamers import ExportedStreamer, load_streamer
from asteroid_deepmask.deployment.streaming_export import export_streaming_model


def _model():
    torch.manual_seed(0)
    return DPRNNDeepMask(n_src=2, causal=True, n_filters=16, bn_chan=8, hid_size=8, chunk_size=10,
                         n_repeats=1).eval()


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    root, model = tmp_path_factory.mktemp("device"), _model()
    return {name: export_streaming_model(model, str(root / name), block=80, quantize=quantize)
            for name, quantize in (("s.onnx", None), ("s.pt", None), ("int8.pt", "int8"))}


def test_the_torch_streamer_puts_blocks_and_state_on_the_models_device(monkeypatch):
    model = _model().to("meta")
    seen = []

    def step(model, mixture, states, frame_valid=None, start=None):
        seen.append((mixture.device, {s.device for s in states}))
        return torch.zeros(mixture.shape[0], 2, mixture.shape[-1], device=mixture.device), states

    monkeypatch.setattr(streaming, "stream_step", step)
    streamer = model.streamer()
    assert streamer.device == torch.device("meta")
    out = streamer.process(torch.zeros(1, 160))  # a CPU block, as the stream command reads it
    assert seen == [(torch.device("meta"), {torch.device("meta")})]
    assert out.device == torch.device("meta")
    assert streamer.flush().device == torch.device("meta")


@pytest.mark.parametrize("name,device,match", [
    ("s.onnx", "cuda", r"ONNX streaming export, which streams on the CPU .*use --device cpu, or export .* TorchScript"),
    ("int8.pt", "cuda", r"int8 TorchScript export, which runs on the CPU.*use --device cpu"),
    ("s.pt", "meta", r"streams on cpu or cuda, not on meta: use --device cpu"),
    ("s.pt", "warp-drive", r"Unknown device 'warp-drive'"),
])
def test_an_export_refuses_a_device_it_cannot_use_naming_the_one_it_can(exports, name, device, match, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # the refusal a GPU machine gives, on any host
    with pytest.raises(ValueError, match=match):
        ExportedStreamer(exports[name], device=device)


@pytest.mark.parametrize("load", ["torchscript stream", "torch stream", "torch separate"])
def test_cuda_without_a_gpu_says_to_use_the_cpu(exports, load, monkeypatch):
    """One check for every entry: before, a torch model was moved to CUDA and failed deep in torch."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    run = {"torchscript stream": lambda: ExportedStreamer(exports["s.pt"], device="cuda"),
           "torch stream": lambda: load_streamer(_model(), device="cuda"),
           "torch separate": lambda: load_separator(_model(), device="cuda")}[load]
    with pytest.raises(ValueError, match=r"--device cuda: this machine has no CUDA GPU .*use --device cpu"):
        run()


def test_a_torchscript_streams_state_stays_on_its_device_and_sources_come_back_to_the_cpu(exports):
    streamer = ExportedStreamer(exports["s.pt"], device="cpu")
    out = streamer.process(torch.randn(1, 200))
    assert out.device == torch.device("cpu") and out.shape == (1, 2, 200 // 80 * 80 - streamer.latency)
    assert all(torch.is_tensor(s) and s.device == torch.device("cpu") for s in streamer._states)
    assert streamer.flush().shape == (1, 2, 200 - (200 // 80 * 80 - streamer.latency))
