"""A trunk defined and registered here, outside the package, trains through the recipe's
training step from an experiment file."""
import os

import numpy as np
import soundfile as sf
import torch
import yaml

from asteroid_deepmask import DeepMaskTasNet, Trunk, register_trunk
from asteroid_deepmask.data import write_manifests
from asteroid_deepmask.experiment.hparams import hparams_dir, load_hparams
from asteroid_deepmask.models import DeepMaskEncoderMaskerDecoder
from asteroid_deepmask.training.trainer import train_experiment


@register_trunk("test_gated_conv")
class GatedConv(Trunk):
    """Two dilated convolutions with a sigmoid gate, then P projections."""

    def __init__(self, in_chan, n_outputs, width=12, dilation=2):
        super().__init__()
        self.n_outputs, self.out_chan = n_outputs, width
        self.conv = torch.nn.Conv1d(in_chan, 2 * width, 3, padding=dilation, dilation=dilation)
        self.proj = torch.nn.Conv1d(width, n_outputs * width, 1)

    def forward(self, mix_rep):
        batch, _, frames = mix_rep.shape
        value, gate = self.conv(mix_rep).chunk(2, dim=1)
        return self.proj(value * torch.sigmoid(gate)).reshape(batch, self.n_outputs, self.out_chan, frames)


def make_corpus(root, counts=(2, 1, 1), samples=2400):
    rng = np.random.default_rng(0)
    for split, count in zip(("tr", "cv", "tt"), counts):
        for i in range(count):
            sources = rng.standard_normal((2, samples)).astype("float32") * 0.1
            for folder, wav in (("s1", sources[0]), ("s2", sources[1]), ("mix", sources.sum(0))):
                os.makedirs(root / "wav8k" / "min" / split / folder, exist_ok=True)
                sf.write(root / "wav8k" / "min" / split / folder / f"utt{i}.wav", wav, 8000)


def test_a_user_trunk_trains_two_steps_through_the_recipe(tmp_path):
    experiment = {
        "extends": os.path.join(hparams_dir(), "wsj0-2mix", "training_base.yaml"),
        "model": {"name": "DeepMaskTasNet", "n_src": 2, "trunk": "test_gated_conv", "trunk_args": {"width": 8},
                  "head": "mlp", "head_args": {"hidden": 8}, "n_outputs": 4, "n_filters": 16},
        "data": {"segment": 0.2},
        "training": {"batch_size": 1, "max_epochs": 1},  # two training mixtures: two steps
    }
    hparams_file = tmp_path / "user_trunk.yaml"
    hparams_file.write_text(yaml.safe_dump(experiment))
    make_corpus(tmp_path / "corpus")
    write_manifests(str(tmp_path / "corpus"), str(tmp_path / "manifests"), load_hparams(str(hparams_file))["data"])
    torch.manual_seed(0)
    initial = DeepMaskTasNet(**{k: v for k, v in experiment["model"].items() if k != "name"}).state_dict()

    train_experiment(str(hparams_file), str(tmp_path / "manifests"), str(tmp_path / "exp"))

    last = torch.load(tmp_path / "exp" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["global_step"] == 2
    model = DeepMaskEncoderMaskerDecoder.from_pretrained(str(tmp_path / "exp" / "best_model.pth"))
    assert type(model) is DeepMaskTasNet and isinstance(model.masker.trunk, GatedConv)
    assert model.get_model_args()["trunk_args"] == {"width": 8, "dilation": 2}
    trained = model.state_dict()
    assert any(not torch.equal(initial[k], trained[k]) for k in initial)
    assert model(torch.randn(1, 1600)).shape == (1, 2, 1600)
