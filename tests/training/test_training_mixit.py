"""Training MixIT from mixtures alone (the sources never read), and semi-supervised: a share of each
batch from a labelled corpus, trained on its sources, validated with and without references."""
import csv
import glob
import os

import numpy as np
import pytest
import soundfile as sf
import torch

from asteroid_deepmask.data import write_manifests, write_unlabeled_manifests
from asteroid_deepmask.experiment.hparams import hparams_dir, load_hparams
from asteroid_deepmask.losses import MixITWrapper
from asteroid_deepmask.models import build_model
from asteroid_deepmask.training.trainer import (SeparationModule, data_loaders, supervised_batch_size,
                                                train_experiment)

TINY = os.path.join(hparams_dir(), "mixit", "tiny.yaml")
FAST = ["data.segment=0.25", "training.max_epochs=1"]


def _labelled_corpus(root, counts=(4, 2, 1)):
    """A wsj0-2mix-layout corpus of noise sources and its manifests; returns the manifests folder."""
    rng = np.random.default_rng(0)
    for split, count in zip(("tr", "cv", "tt"), counts):
        for i in range(count):
            sources = (0.1 * rng.standard_normal((2, 4000))).astype(np.float32)
            for folder, wav in (("mix", sources.sum(0)), ("s1", sources[0]), ("s2", sources[1])):
                os.makedirs(root / "wav8k" / "min" / split / folder, exist_ok=True)
                sf.write(root / "wav8k" / "min" / split / folder / f"u{i}.wav", wav, 8000, subtype="FLOAT")
    write_manifests(str(root), str(root / "manifests"), load_hparams(TINY)["data"])
    return str(root / "manifests")


def _unlabeled(root, recordings=5):
    rng = np.random.default_rng(1)
    os.makedirs(root / "audio")
    for i in range(recordings):
        sf.write(root / "audio" / f"r{i}.wav", (0.1 * rng.standard_normal(8000)).astype(np.float32), 8000)
    write_unlabeled_manifests(str(root / "audio"), str(root / "manifests"), 8000, 0.25, valid_share=0.2, log=print)
    return str(root / "manifests")


def _logged(exp):
    rows = [r for p in glob.glob(os.path.join(exp, "logs", "version_*", "metrics.csv")) for r in csv.DictReader(open(p))]
    return {key for row in rows for key, value in row.items() if value}


def test_unsupervised_training_never_reads_the_sources(tmp_path):
    manifests = _labelled_corpus(tmp_path / "corpus")
    for source in glob.glob(str(tmp_path / "corpus" / "wav8k" / "min" / "*" / "s[12]" / "*.wav")):
        os.remove(source)  # any read of a source now raises
    train_experiment(TINY, manifests, str(tmp_path / "exp"), FAST + ["training.batch_size=2"])
    assert os.path.isfile(tmp_path / "exp" / "best_model.pth")
    assert {"loss_epoch", "val_loss"} <= _logged(tmp_path / "exp")


def test_semi_supervised_batches_hold_the_share_of_labelled_examples(tmp_path):
    unlabeled, labelled = _unlabeled(tmp_path / "u"), _labelled_corpus(tmp_path / "l")
    # the plain SNR without projection or sparsity, so that the loss below is the hand computation's (and no
    # silent references, which the gate refuses with neg_snr)
    hp = load_hparams(TINY, ["data.segment=0.25", "training.batch_size=4", "training.supervised_share=0.25",
                             "training.loss=neg_snr", "model.mixture_consistency=null",
                             "data.mixit_less_crowded_share=0", "training.sparsity_weight=0"])
    train, valid = data_loaders(unlabeled, hp, supervised_manifests=labelled)
    batches = [batch for batch, _, _ in train]
    assert len(batches) == 16 // 3  # the MixIT loader's batches: 16 training segments, 3 per batch
    for batch in batches:
        (moms, mixtures), (mix, sources) = batch["mixit"], batch["supervised"]
        assert moms.shape == (3, 2000) and mixtures.shape == (3, 2, 2000)
        assert mix.shape == (1, 2000) and sources.shape == (1, 2, 2000)
        torch.testing.assert_close(mix, sources.sum(1))  # a labelled mixture and its own sources
    assert [len(loader) for loader in valid] == [1, 2]  # held-out mixtures of mixtures, labelled validation set

    module = SeparationModule(build_model(hp["model"]), hp)
    loss = module.training_step(batches[0], 0)
    (moms, mixtures), (mix, sources) = batches[0]["mixit"], batches[0]["supervised"]
    with torch.no_grad():  # the 4 outputs of 3 mixtures of mixtures remixed, of 1 labelled mixture assigned
        mixit = MixITWrapper("neg_snr")(module.model.forward_outputs(moms), mixtures)
        supervised = MixITWrapper("neg_snr")(module.model.forward_outputs(mix), sources)
    torch.testing.assert_close(loss.detach(), (3 * mixit + supervised) / 4)


def test_a_semi_supervised_run_validates_with_and_without_references(tmp_path):
    unlabeled, labelled = _unlabeled(tmp_path / "u"), _labelled_corpus(tmp_path / "l")
    train_experiment(TINY, unlabeled, str(tmp_path / "exp"), FAST + ["training.supervised_share=0.25"],
                     supervised_manifests=labelled)
    assert {"val_loss", "val_si_sdr", "loss_mixit", "loss_supervised"} <= _logged(tmp_path / "exp")


@pytest.mark.parametrize("training,manifests,match", [
    (dict(supervised_share=0.1), None, "supervised_share=0.1 needs a labelled corpus"),
    (dict(supervised_share=0.0), "m", "set training.unsupervised_mixit=true and training.supervised_share > 0"),
    (dict(supervised_share=0.5, unsupervised_mixit=False), "m", "set training.unsupervised_mixit=true"),
    (dict(supervised_share=0.9, batch_size=2), "m", "leaves no mixture of mixtures"),
])
def test_semi_supervised_settings_that_cannot_work(training, manifests, match):
    with pytest.raises(ValueError, match=match):
        supervised_batch_size({"batch_size": 8, "unsupervised_mixit": True, **training}, manifests)


def test_unlabeled_manifests_need_unsupervised_training(tmp_path):
    with pytest.raises(ValueError, match="lists unlabeled audio .* training.unsupervised_mixit=true"):
        train_experiment(TINY, _unlabeled(tmp_path), str(tmp_path / "exp"),
                         FAST + ["training.unsupervised_mixit=false", "training.sparsity_weight=0"])
    assert not os.path.exists(tmp_path / "exp")


def test_a_model_with_more_outputs_than_sources_trains_supervised_on_their_best_assignment():
    hp = load_hparams(TINY, ["training.unsupervised_mixit=false", "model.n_src=4", "training.loss=neg_snr",
                             "model.mixture_consistency=null", "training.sparsity_weight=0"])
    module = SeparationModule(build_model(hp["model"]), hp)
    sources = torch.randn(2, 2, 2000)
    loss = module.training_step((sources.sum(1), sources), 0)
    with torch.no_grad():
        expected = MixITWrapper("neg_snr")(module.model(sources.sum(1)), sources)
    torch.testing.assert_close(loss.detach(), expected)
    module.validation_step((sources.sum(1), sources), 0)  # 4 outputs scored against 2 sources
