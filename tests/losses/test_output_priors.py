"""The sparsity and envelope-covariance losses on a MixIT model's outputs, against numpy computations."""
import numpy as np
import pytest
import torch

from asteroid_deepmask.losses import envelope_covariance, rms_sparsity


def numpy_sparsity(outputs):
    rms = np.sqrt((outputs**2).mean(-1))
    return np.abs(rms).sum(-1) / np.sqrt((rms**2).sum(-1))


def numpy_covariance(outputs, frame):
    batch = []
    for item in outputs:
        n = item.shape[-1] // frame
        env = np.stack([[np.mean(o[f * frame:(f + 1) * frame] ** 2) for f in range(n)] for o in item])
        cov = np.cov(env, bias=True)
        off = sum(max(cov[p, q], 0.0) for p in range(len(cov)) for q in range(len(cov)) if p != q)
        batch.append(off / np.trace(cov))
    return np.array(batch)


def test_sparsity_against_numpy_and_its_bounds():
    outputs = np.random.default_rng(0).standard_normal((3, 5, 400)) * np.array([1.0, 0.1, 0.0, 2.0, 0.5])[:, None]
    np.testing.assert_allclose(rms_sparsity(torch.tensor(outputs), eps=0).numpy(), numpy_sparsity(outputs), rtol=1e-6)
    # the default floor (for the gradient at silence) moves the value by about 1e-4 per silent output
    np.testing.assert_allclose(rms_sparsity(torch.tensor(outputs)).numpy(), numpy_sparsity(outputs), rtol=2e-4)
    one = torch.zeros(2, 4, 100)
    one[:, 2] = torch.randn(2, 100)
    torch.testing.assert_close(rms_sparsity(one), torch.ones(2), atol=1e-3, rtol=0)
    torch.testing.assert_close(rms_sparsity(torch.randn(1, 4, 8) * 0 + 3), torch.tensor([2.0]))
    torch.testing.assert_close(rms_sparsity(1e-3 * torch.tensor(outputs)), rms_sparsity(torch.tensor(outputs)))


def test_sparsity_gradient_silences_the_quiet_output_and_feeds_the_loud_one():
    base = torch.randn(1, 3, 200, generator=torch.Generator().manual_seed(1))
    gains = torch.tensor([1.0, 0.05, 0.5], requires_grad=True)
    rms_sparsity(base * gains[:, None]).sum().backward()
    assert gains.grad[1] > 0 and gains.grad[2] > 0  # descent lowers both quieter outputs
    assert gains.grad[0] < 0  # and raises the loudest
    # descent on the gains drives the quiet output towards silence
    gains = torch.tensor([1.0, 0.05, 0.5], requires_grad=True)
    optimiser = torch.optim.SGD([gains], lr=0.05)
    for _ in range(200):
        optimiser.zero_grad()
        rms_sparsity(base * gains[:, None]).sum().backward()
        optimiser.step()
    gains = gains.detach().abs()
    assert gains[1] / gains[0] < 0.03 and gains[2] / gains[0] < 0.01  # from 0.05 and 0.5: both fall silent


def test_covariance_against_numpy():
    rng = np.random.default_rng(2)
    envelope = np.repeat(rng.uniform(0, 1, (2, 1, 10)), 40, -1)  # one syllable rhythm per item
    outputs = rng.standard_normal((2, 4, 400)) * np.concatenate([envelope, envelope * 0.5,
                                                                 rng.uniform(0, 1, (2, 2, 400))], 1)
    got = envelope_covariance(torch.tensor(outputs), 40).numpy()
    np.testing.assert_allclose(got, numpy_covariance(outputs, 40), rtol=1e-6)
    assert (got > 0.2).all()  # two outputs share an envelope


def test_covariance_separates_one_source_split_from_two_talkers_taking_turns():
    t = torch.arange(1600.0)
    noise = torch.randn(2, 1600, generator=torch.Generator().manual_seed(3))
    talker = (t % 400 < 200).float()
    split = torch.stack([talker * noise[0], talker * noise[1]])[None]  # one talker over two outputs
    turns = torch.stack([talker * noise[0], (1 - talker) * noise[1]])[None]
    assert float(envelope_covariance(split, 100)) > 0.9
    assert float(envelope_covariance(turns, 100)) < 1e-6
    silent = torch.cat([split, torch.zeros(1, 2, 1600)], 1)  # silent outputs add nothing
    torch.testing.assert_close(envelope_covariance(silent, 100), envelope_covariance(split, 100))
    weights = torch.tensor([1.0, 1.0], requires_grad=True)
    envelope_covariance(split * weights[:, None], 100).backward()
    assert (weights.grad != 0).any()


@pytest.mark.parametrize("loss", [rms_sparsity, lambda x: envelope_covariance(x, 10)])
def test_bad_shapes_are_refused(loss):
    with pytest.raises(ValueError, match=r"\[batch, n_out, time\]"):
        loss(torch.zeros(4, 100))


def test_covariance_needs_two_frames():
    with pytest.raises(ValueError, match="at least two frames"):
        envelope_covariance(torch.zeros(1, 2, 100), 60)
