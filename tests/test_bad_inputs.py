"""Bad input, everywhere a user gives some: each case is refused with a message naming the problem,
and nothing is written or lost."""
import glob
import json
import os
import re

import asteroid
import numpy as np
import pytest
import torch
import yaml

from asteroid_deepmask import (ConvTasNetDeepMask, DeepMaskTasNet, DPRNNDeepMask, SimoSisoTasNet,
                               SlicedAttentionTasNet, recipe)
from asteroid_deepmask.utils.checks import UnknownArgumentError
from asteroid_deepmask.cli import main
from asteroid_deepmask.data import corpus_layout
from asteroid_deepmask.experiment.schema import check_experiment
from asteroid_deepmask.experiment.hparams import hparams_dir, load_hparams
from asteroid_deepmask.models import DeepMaskEncoderMaskerDecoder

TINY = dict(n_filters=16, bn_chan=8, hid_size=8, chunk_size=10, n_repeats=1)
#: Small arguments of each class, for the cases that fail while building.
SMALL = {DPRNNDeepMask: TINY, SimoSisoTasNet: dict(n_filters=16, bn_chan=8, hid_size=8, n_simo=1, n_siso=1),
         ConvTasNetDeepMask: dict(n_filters=16, n_blocks=1, n_repeats=1, bn_chan=8, hid_chan=8, skip_chan=8),
         SlicedAttentionTasNet: dict(n_filters=16, embed_chan=8, n_blocks=1, slice_len=10),
         DeepMaskTasNet: dict(n_filters=16)}


@pytest.mark.parametrize("cls, kwargs, message", [
    # unknown or misspelled names: the close one, and the list of the names taken
    (SimoSisoTasNet, dict(n_repeats=3),
     "SimoSisoTasNet got an unknown argument 'n_repeats'; it takes .*n_simo, n_siso"),
    (DPRNNDeepMask, dict(hid_sise=8), "unknown argument 'hid_sise' \\(did you mean 'hid_size'\\?\\)"),
    (ConvTasNetDeepMask, dict(n_repeat=1), "unknown argument 'n_repeat' \\(did you mean 'n_repeats'\\?\\)"),
    (SlicedAttentionTasNet, dict(n_head=2), "unknown argument 'n_head' \\(did you mean 'n_heads'\\?\\)"),
    (DeepMaskTasNet, dict(trunk_args=dict(hid_sise=8)), "The trunk 'dprnn' \\(trunk_args\\) got an unknown argument "
                                                        "'hid_sise' \\(did you mean 'hid_size'\\?\\)"),
    (DeepMaskTasNet, dict(trunk="simo_siso", trunk_args=dict(n_repeats=3)), "The trunk 'simo_siso'.*'n_repeats'"),
    (DeepMaskTasNet, dict(head_args=dict(hiden=8)),
     "The head 'linear' \\(head_args\\) got an unknown argument 'hiden'"),
    # wrong types
    (DPRNNDeepMask, dict(n_src="2"), "n_src must be an integer >= 1, got n_src='2'"),
    (DPRNNDeepMask, dict(hid_size=8.5), "hid_size must be an integer >= 1, got hid_size=8.5"),
    (DPRNNDeepMask, dict(bidirectional="yes"), "bidirectional must be True or False, got bidirectional='yes'"),
    (DPRNNDeepMask, dict(shared_head=1), "shared_head must be None, True or False, got shared_head=1"),
    (DPRNNDeepMask, dict(sample_rate="8k"), "sample_rate must be a positive number of Hz, got sample_rate='8k'"),
    (DeepMaskTasNet, dict(trunk_args=[8]), "trunk_args must be a dict of the trunk's arguments, got list"),
    # zero and negative sizes
    (DPRNNDeepMask, dict(n_src=0), "n_src must be an integer >= 1, got n_src=0"),
    (DPRNNDeepMask, dict(kernel_size=0), "kernel_size must be an integer >= 1, got kernel_size=0"),
    (DPRNNDeepMask, dict(stride=-8), "stride must be an integer >= 1, got stride=-8"),
    (DPRNNDeepMask, dict(n_filters=0), "n_filters must be an integer >= 1, got n_filters=0"),
    (DPRNNDeepMask, dict(sample_rate=0), "sample_rate must be a positive number of Hz, got sample_rate=0"),
    (ConvTasNetDeepMask, dict(n_blocks=-1), "n_blocks must be an integer >= 1, got n_blocks=-1"),
    (SimoSisoTasNet, dict(n_simo=-1), "n_simo must be an integer >= 0, got n_simo=-1"),
    (SlicedAttentionTasNet, dict(n_heads=0), "n_heads must be an integer >= 1, got n_heads=0"),
    # P not a multiple of C
    (DPRNNDeepMask, dict(n_outputs=5), "n_outputs=5 cannot be grouped into n_src=2 sources"),
    (ConvTasNetDeepMask, dict(n_outputs=3), "n_outputs=3 cannot be grouped into n_src=2 sources"),
    # unknown names
    (DPRNNDeepMask, dict(mask_act="tanh"), "mask_act='tanh'; choose one of"),
    (DPRNNDeepMask, dict(fb_name="mel"), "fb_name='mel' is not an asteroid_filterbanks filterbank; choose one of"),
    (DPRNNDeepMask, dict(mask_head="deep"), "mask_head='deep'; choose one of \\['linear', 'mlp'"),
    (DPRNNDeepMask, dict(norm_type="LN"), "norm_type='LN' is not one of Asteroid's names; choose e.g. gLN"),
    (DPRNNDeepMask, dict(encoder_activation="sigmoidal"),
     "encoder_activation='sigmoidal' is not one of Asteroid's names"),
    (DeepMaskTasNet, dict(trunk="lstm"), "Unknown trunk='lstm'; registered: "),
    (DeepMaskTasNet, dict(head="deep"), "Unknown head='deep'; registered: "),
])
def test_constructors_name_the_bad_argument(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**{"n_src": 2, **SMALL[cls], **kwargs})


def test_an_unknown_argument_is_a_type_error_too():
    # Python raises TypeError for an unexpected keyword; the command line reports ValueErrors in one line.
    with pytest.raises(TypeError, match="hid_sise"):
        DPRNNDeepMask(n_src=2, hid_sise=8)
    assert issubclass(UnknownArgumentError, ValueError)


@pytest.mark.parametrize("wav, message", [
    (torch.full((1, 800), float("nan")), "holds 800 NaN or infinite samples out of 800"),
    (torch.cat([torch.zeros(1, 799), torch.full((1, 1), float("inf"))], 1), "holds 1 NaN or infinite samples"),
    (np.zeros((1, 800)), "takes torch.float32 samples, got torch.float64: convert them"),
    (torch.ones(1, 800, dtype=torch.int16), "takes torch.float32 samples, got torch.int16"),
    (torch.zeros(1, 0), "got a clip of 0 samples, shorter than the encoder kernel"),
    (torch.zeros(0), "got a clip of 0 samples"),
    (torch.zeros(1, 1, 1, 800), "got 4 dimensions, shape \\(1, 1, 1, 800\\)"),
    (torch.zeros(1, 2, 800), "got 2 channels"),
])
def test_separate_refuses_bad_waveforms(tiny_dprnn, wav, message):
    with pytest.raises(ValueError, match=message):
        tiny_dprnn().separate(wav)


def test_separate_takes_a_single_waveform(tiny_dprnn):
    model, wav = tiny_dprnn().eval(), torch.randn(800)
    assert torch.allclose(model.separate(wav), model.separate(wav[None])[0])
    assert model.separate(wav).shape == (2, 800)


class Exploit:
    ran = False

    def __reduce__(self):
        return (setattr, (Exploit, "ran", True))


def _not_models(tmp_path):
    """Files and a folder that are no model: each name, and the phrase its refusal must hold."""
    (tmp_path / "empty_dir").mkdir()
    torch.save([1, 2, 3], tmp_path / "list.pth")
    torch.save({"model_name": "DPRNNDeepMask"}, tmp_path / "keys.pth")
    return {"empty_dir": re.escape("no config.json: it is not a hub folder written by save_pretrained(); a model is"),
            "list.pth": "is a list, not a model package dict; a model is",
            "keys.pth": "is not a model package: keys \\['model_args', 'state_dict'\\] are missing"}


def test_loaders_and_the_command_line_name_what_is_not_a_model(tmp_path, capsys):
    for name, message in _not_models(tmp_path).items():
        path = str(tmp_path / name)
        for loader in (DPRNNDeepMask, DeepMaskEncoderMaskerDecoder):
            with pytest.raises(ValueError, match=f"'{path}'.*{message}"):
                loader.from_pretrained(path)
        assert main(["separate", path, "--model", path, "-o", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and path in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_asteroids_own_loader_never_unpickles_objects(tmp_path):
    # Asteroid's BaseModel.from_pretrained reads the file itself with torch.load (weights-only by default
    # since torch 2.6): it refuses the pickle with torch's error, before our classes are reached.
    torch.save({"model_name": "DPRNNDeepMask", "payload": Exploit()}, tmp_path / "untrusted.pth")
    with pytest.raises(Exception, match="Weights only load failed"):
        asteroid.models.BaseModel.from_pretrained(str(tmp_path / "untrusted.pth"))
    assert not Exploit.ran


@pytest.fixture
def experiment(tmp_path):
    """``(write(changes) -> hparams file, manifests folder)``: a tiny valid experiment and manifests whose
    audio is never read (every case here stops before training)."""
    hparams = dict(model=dict(name="DPRNNDeepMask", n_src=2, **TINY),
                   data=dict(dataset="tiny", sample_rate=8000, mode="min", n_src=2, segment=0.25),
                   training=dict(batch_size=1, max_epochs=1, early_stop_patience=1), optim=dict(lr=0.001),
                   scheduler={})
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "info.json").write_text(json.dumps(corpus_layout(hparams["data"])))
    entry = [{"id": "a", "mix": "a.wav", "sources": ["a1.wav", "a2.wav"], "samples": 2000}]
    for split in ("tr", "cv", "tt"):
        (manifests / f"{split}.json").write_text(json.dumps(entry))

    def write(section=None, key=None, value=None, delete=False):
        changed = json.loads(json.dumps(hparams))
        if delete:
            del (changed[section] if key else changed)[key or section]
        elif key:
            changed[section][key] = value
        elif section:
            changed[section] = value
        (tmp_path / "exp.yaml").write_text(yaml.safe_dump(changed))
        return str(tmp_path / "exp.yaml")

    return write, str(manifests)


#: ``value`` of a case that removes the key (or the section) instead of setting it.
DELETE = object()


@pytest.mark.parametrize("target, value, message", [
    ("training.batch_size", DELETE, re.escape("has no training.batch_size; give it (an integer >= 1)")),
    ("optim", DELETE, "has no 'optim' section; it needs a mapping of optim settings"),
    ("training", 5, "has training: 5; it needs a mapping of training settings"),
    ("training.max_epoch", 3, "The training section of .* got an unknown argument 'max_epoch' "
     "\\(did you mean 'max_epochs'\\?\\)"),
    ("optim.learning_rate", 0.1, "optim section .* unknown argument 'learning_rate'"),
    ("optim.lr", "fast", "optim.lr='fast' in .*; give a number > 0"),
    ("training.batch_size", 0, "training.batch_size=0 in .*; give an integer >= 1"),
    ("data.segment", -1, "data.segment=-1 in .*; give a number > 0"),
    ("model.hid_sise", 8, "DPRNNDeepMask got an unknown argument 'hid_sise' \\(did you mean 'hid_size'\\?\\)"),
    ("model.n_outputs", 3, "n_outputs=3 cannot be grouped into n_src=2 sources"),
    ("training.loss", "l1", "training.loss='l1' in .*; choose one of neg_snr, neg_sisdr"),
    ("training.grouping", "greedy", "training.grouping='greedy' in .*; choose one of deterministic, dynamic"),
    ("training.precision", 16, "training.precision=16 in .*; choose one of 32, 16-mixed, bf16-mixed"),
    ("training.precision", "16-mixed", "training.precision=16-mixed in .* needs a GPU; on the CPU use bf16-mixed"),
    ("optim.optimizer", "sgd", "optim.optimizer='sgd' in .*; choose one of adam"),
    ("training.num_workers", -1, "training.num_workers=-1 in .*; give auto or an integer"),
    ("training.num_workers", "many", "training.num_workers='many' in .*; give auto"),
    ("training.max_nonfinite_batches", -1, "training.max_nonfinite_batches=-1 in .*; give an integer >= 0"),
    ("training.gradient_clip_norm", 0, "training.gradient_clip_norm=0 in .*; give a number > 0"),
    ("training.seed", 1.5, "training.seed=1.5 in .*; give an integer >= 0"),
    ("optim.weight_decay", "none", "optim.weight_decay='none' in .*; give a number"),
    ("scheduler.factor", 0, "scheduler.factor=0 in .*; give a number > 0"),
    ("scheduler.patience", -2, "scheduler.patience=-2 in .*; give an integer >= 0"),
    ("training.unsupervised_mixit", "yes", "training.unsupervised_mixit='yes' in .*; give true or false"),
    ("training.grouping", 5, "training.grouping=5 in .*; choose one of deterministic"),
    ("training.accumulate_grad_batches", 0, "training.accumulate_grad_batches=0 in .*; give an integer >= 1"),
])
def test_bad_experiment_files_are_refused_before_anything_is_written(experiment, target, value, message, tmp_path,
                                                                    capsys):
    write, manifests = experiment
    section, _, key = target.partition(".")
    change = dict(delete=True) if value is DELETE else dict(value=value)
    exp = tmp_path / "exp"
    args = ["train", "--hparams", write(section, key or None, **change), "--manifests", manifests, "--exp", str(exp)]
    assert recipe.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("recipe train: error: "), err
    assert re.search(message, err[0]), err[0]
    assert not exp.exists()


def test_training_into_another_experiments_folder_is_refused(experiment, tmp_path, capsys):
    write, manifests = experiment
    hparams = write()
    other = yaml.safe_load(open(hparams))
    other["model"]["n_outputs"], other["training"]["max_epochs"] = 4, 30  # max_epochs may change: a longer run
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "hparams.yaml").write_text(yaml.safe_dump(other))
    before = (exp / "hparams.yaml").read_bytes()
    assert recipe.main(["train", "--hparams", hparams, "--manifests", manifests, "--exp", str(exp)]) == 2
    err = capsys.readouterr().err
    assert f"{exp / 'hparams.yaml'} holds another experiment (model.n_outputs: 4 -> None); train into another " \
        "folder (--exp), give the same settings to resume it, or start it over (--force)." in err
    assert (exp / "hparams.yaml").read_bytes() == before and os.listdir(exp) == ["hparams.yaml"]


def test_false_and_empty_values_pass_the_type_checks():
    """The checks test types and values, not truth: ``false`` is a boolean, ``0`` a count."""
    hp = load_hparams(os.path.join(hparams_dir(), "wsj0-2mix", "baseline.yaml"))
    hp["training"].update(unsupervised_mixit=False, seed=0, max_nonfinite_batches=0, num_workers=0)
    check_experiment(hp, "baseline.yaml")


def test_every_shipped_experiment_file_passes_the_checks():
    # The checks refuse keys training does not read: a key added to a shipped file must be added to them.
    paths = [p for p in glob.glob(os.path.join(hparams_dir(), "*", "*.yaml"))
             if os.sep + "speechbrain" + os.sep not in p]  # HyperPyYAML files, SpeechBrain's recipes
    experiments = {path: load_hparams(path) for path in paths}
    experiments = {path: hp for path, hp in experiments.items() if "model" in hp}  # not the shared bases
    assert len(experiments) > 30
    for path, hp in experiments.items():
        check_experiment(hp, path)
