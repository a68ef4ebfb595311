"""Teacher-student MixIT: the teacher's outputs grouped around its loudest ones by their envelopes, and the
student's loss on them, against independent computations."""
import numpy as np
import pytest
import torch

from asteroid_deepmask.losses import group_teacher_outputs


def numpy_groups(outputs, n_groups, frame):
    """The grouping of the docstring, computed output by output."""
    groups = []
    for item in outputs:
        energy = (item**2).sum(-1)
        anchors = list(np.argsort(-energy, kind="stable")[:n_groups])
        n = item.shape[-1] // frame
        env = np.stack([[np.mean(o[f * frame:(f + 1) * frame] ** 2) for f in range(n)] for o in item])
        env = env - env.mean(-1, keepdims=True)
        out = [item[a].copy() for a in anchors]
        for p in range(len(item)):
            if p in anchors:
                continue
            corr = [np.dot(env[p], env[a]) / (np.linalg.norm(env[p]) * np.linalg.norm(env[a]) + 1e-30) for a in anchors]
            out[int(np.argmax(corr))] += item[p]
        groups.append(np.stack(out))
    return np.stack(groups)


def test_grouping_against_numpy_and_that_groups_sum_to_the_outputs():
    rng = np.random.default_rng(0)
    t = np.arange(3200)
    envelopes = np.stack([(t % 800 < 400), (t % 800 >= 400), (t % 1600 < 800)]).astype(float)
    # three talkers; talkers 0 and 1 split in two parts each (their smaller part quieter than any whole talker)
    parts = [(0, 1.0), (1, 0.9), (2, 0.8), (0, 0.4), (1, 0.3), (2, 0.05)]
    outputs = np.stack([np.stack([g * envelopes[k] * rng.standard_normal(3200) for k, g in parts])
                        for _ in range(2)])
    got = group_teacher_outputs(torch.tensor(outputs), 3, frame=200).numpy()
    np.testing.assert_allclose(got, numpy_groups(outputs, 3, 200), atol=1e-12)
    np.testing.assert_allclose(got.sum(1), outputs.sum(1), atol=1e-12)
    np.testing.assert_allclose(got[:, 0], outputs[:, [0, 3]].sum(1), atol=1e-12)  # talker 0 made whole again
    np.testing.assert_allclose(got[:, 2], outputs[:, [2, 5]].sum(1), atol=1e-12)


def test_a_grouping_by_level_would_fail_where_envelopes_succeed():
    # the fragment of talker a is as loud as talker b: energy or SNR would not tell where it belongs
    noise = torch.randn(3, 1600, generator=torch.Generator().manual_seed(1))
    first = (torch.arange(1600) < 800).float()
    a, b, a_part = 2 * noise[0] * first, noise[1] * (1 - first), noise[2] * first
    groups = group_teacher_outputs(torch.stack([b, a, a_part])[None], 2, frame=100)[0]
    torch.testing.assert_close(groups, torch.stack([a + a_part, b]))


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"\[batch, P, time\]"):
        group_teacher_outputs(torch.zeros(3, 800), 2, frame=100)
    with pytest.raises(ValueError, match="n_groups=5 must be from 1 to the teacher's 4 outputs"):
        group_teacher_outputs(torch.zeros(1, 4, 800), 5, frame=100)


def test_the_student_learns_the_grouped_teacher_outputs_with_pit(tmp_path):
    from asteroid.losses import PITLossWrapper

    from asteroid_deepmask.losses import pairwise_loss
    from asteroid_deepmask.models import build_model
    from asteroid_deepmask.training.trainer import SeparationModule

    from tiny_hparams import TINY_MODEL

    teacher = build_model({**TINY_MODEL, "n_outputs": 4, "mixture_consistency": "uniform"}).eval()
    torch.save(teacher.serialize(), tmp_path / "teacher.pth")
    hp = {"model": {**TINY_MODEL, "n_outputs": 2}, "data": {"sample_rate": 8000, "segment": 0.25},
          "training": {"batch_size": 2, "max_epochs": 1, "early_stop_patience": 1, "unsupervised_mixit": True,
                       "loss": "thresholded_snr", "teacher": str(tmp_path / "teacher.pth")},
          "optim": {"lr": 0.001}, "scheduler": {}}
    module = SeparationModule(build_model(hp["model"]), hp).eval()
    # the module's copy of the teacher is frozen, and none of its parameters is the module's (nothing of it is trained)
    assert all(not p.requires_grad for p in module._teacher[0].parameters())
    assert {id(p) for p in module.parameters()} == {id(p) for p in module.model.parameters()}
    assert not any(k.startswith("_teacher") for k in module.state_dict())
    mixtures = torch.randn(2, 2, 2000)
    mixtures[1, 1] = 0  # a less crowded mixture of mixtures: its silent part is left out
    with torch.no_grad():
        loss = module.teacher_loss(mixtures.sum(1), mixtures)
        mixes = mixtures.flatten(0, 1)[[0, 1, 2]]
        targets = group_teacher_outputs(teacher.forward_outputs(mixes), 2, 256)
        student = module.model.forward_outputs(mixes)
        pit = PITLossWrapper(pairwise_loss("thresholded_snr"), pit_from="pw_mtx")
        torch.testing.assert_close(loss, pit(student, targets))
