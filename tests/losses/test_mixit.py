import itertools

import pytest
import torch
from asteroid.losses import MixITLossWrapper, multisrc_neg_sisdr, multisrc_neg_snr

from asteroid_deepmask import MixITWrapper, mixtures_of_mixtures
from asteroid_deepmask.losses import MIXIT_LOSSES, all_assignments

ASTEROID_LOSSES = {"neg_sisdr": multisrc_neg_sisdr, "neg_snr": multisrc_neg_snr}


def asteroid_best(loss, generalized, est, refs):
    """Asteroid's loss per example and best assignment (reference index per output)."""
    finder = MixITLossWrapper.best_part_mixit_generalized if generalized else MixITLossWrapper.best_part_mixit
    min_loss, idx, parts = finder(ASTEROID_LOSSES[loss], est, refs)
    assignment = torch.zeros(est.shape[0], est.shape[1], dtype=torch.long)
    for b, i in enumerate(idx[:, 0].tolist()):
        for k, outputs in enumerate(parts[i]):
            assignment[b, outputs] = k
    return min_loss[:, 0], assignment


@pytest.mark.parametrize("n_outputs", [4, 8])
@pytest.mark.parametrize("generalized", [True, False])
@pytest.mark.parametrize("loss", ["neg_sisdr", "neg_snr"])
def test_same_values_and_assignment_as_asteroid(n_outputs, generalized, loss):
    est, refs = torch.randn(4, n_outputs, 600), torch.randn(4, 2, 600)
    ours, remixed, assignment = MixITWrapper(loss, generalized=generalized, reduction="none")(
        est, refs, return_est=True
    )
    theirs, their_assignment = asteroid_best(loss, generalized, est, refs)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-4)
    assert torch.equal(assignment, their_assignment)
    _, their_remix = MixITLossWrapper(ASTEROID_LOSSES[loss], generalized=generalized)(est, refs, return_est=True)
    torch.testing.assert_close(remixed, their_remix)
    mean = MixITWrapper(loss, generalized=generalized)(est, refs)
    torch.testing.assert_close(mean, theirs.mean(), rtol=0, atol=1e-4)


def brute_force(loss, est, refs, assignments, snr_max=30.0):
    """Loss of every assignment computed on remixed waveforms, independently of the Gram path."""
    values = []
    for a in assignments:
        onehot = torch.nn.functional.one_hot(a, refs.shape[1]).T.double()
        y, x = torch.einsum("kp,bpt->bkt", onehot, est.double()), refs.double()
        err = (x - y).pow(2).sum(-1)
        if loss == "mse":
            v = err / x.shape[-1]
        else:  # thresholded_snr
            v = 10 * torch.log10(err + 10 ** (-snr_max / 10) * x.pow(2).sum(-1) + 1e-8)
        values.append(v.mean(-1))
    values = torch.stack(values, 1)
    return values.min(1)


@pytest.mark.parametrize("loss", ["mse", "thresholded_snr"])
@pytest.mark.parametrize("mode", [dict(), dict(generalized=False), dict(require_nonempty=True)])
def test_gram_scores_match_waveform_losses(loss, mode):
    est, refs = torch.randn(3, 6, 500), torch.randn(3, 2, 500)
    wrapper = MixITWrapper(loss, reduction="none", **mode)
    value, _, assignment = wrapper(est, refs, return_est=True)
    expected, idx = brute_force(loss, est, refs, all_assignments(2, 6, wrapper.mode))
    torch.testing.assert_close(value.double(), expected, rtol=1e-5, atol=1e-5)
    assert torch.equal(assignment, all_assignments(2, 6, wrapper.mode)[idx])


def test_assignment_sets():
    assert len(all_assignments(2, 4, "any")) == 16
    assert len(all_assignments(2, 4, "nonempty")) == 14
    assert len(all_assignments(2, 4, "equal")) == 6
    assert {tuple(a) for a in all_assignments(3, 3, "nonempty").tolist()} == set(itertools.permutations(range(3)))


def test_gradients_flow_to_every_estimate():
    est = torch.randn(2, 8, 400, requires_grad=True)
    MixITWrapper("neg_sisdr")(est, torch.randn(2, 2, 400)).backward()
    assert torch.all(est.grad.abs().sum(-1) > 0)


@pytest.mark.parametrize("loss", MIXIT_LOSSES)
def test_known_partition_is_found_by_both_searches(loss):
    """Estimates that split each reference into parts: the best assignment regroups the parts."""
    refs = torch.randn(2, 2, 400)
    parts = [torch.rand(2, 5, 1) for _ in range(2)]
    parts = [p / p.sum(1, keepdim=True) for p in parts]
    est = torch.cat([parts[0] * refs[:, :1], parts[1] * refs[:, 1:]], 1)  # outputs 0-4 -> ref 0
    order = torch.randperm(10)
    est = est[:, order]
    expected = (order >= 5).long().expand(2, -1)
    for search in ("exhaustive", "local"):
        wrapper = MixITWrapper(loss, search=search, reduction="none")
        assert torch.equal(wrapper.best_assignment(est, refs), expected), search
    auto = MixITWrapper(loss, max_assignments=16)  # 2^10 > 16: takes the local search
    assert torch.equal(auto.best_assignment(est, refs), expected)


@pytest.mark.parametrize("n_outputs", [10, 12])
@pytest.mark.parametrize("loss", ["neg_snr", "neg_sisdr"])
def test_local_search_is_close_to_the_optimum(n_outputs, loss):
    """Random noise (no structure to exploit) is the hard case for the local search."""
    est, refs = torch.randn(40, n_outputs, 300), torch.randn(40, 2, 300)
    exact = MixITWrapper(loss, reduction="none")(est, refs)
    local = MixITWrapper(loss, reduction="none", search="local")(est, refs)
    gap = local - exact
    assert gap.min() > -1e-5  # never better than the exhaustive optimum
    assert (gap < 1e-5).float().mean() >= 0.9  # measured here: 96-100 % of cases optimal
    assert gap.mean() < 0.1  # dB


@pytest.mark.parametrize("loss", MIXIT_LOSSES)
def test_silent_references_and_estimates(loss):
    est = torch.randn(3, 4, 300)
    est[0] = 0
    est[1, :2] = 0
    refs = torch.randn(3, 2, 300)
    refs[1] = 0
    refs[2, 0] = 0
    est.requires_grad_()
    value = MixITWrapper(loss, reduction="none")(est, refs)
    value.sum().backward()
    assert torch.isfinite(value).all() and torch.isfinite(est.grad).all()


@pytest.mark.parametrize(
    "est,refs,kwargs,match",
    [
        (torch.randn(2, 4, 100), torch.randn(3, 2, 100), {}, "share batch and time"),
        (torch.randn(2, 4, 100), torch.randn(2, 2, 90), {}, "share batch and time"),
        (torch.randn(2, 2, 100), torch.randn(2, 3, 100), {}, "P=2 < K=3"),
        (torch.randn(2, 100), torch.randn(2, 2, 100), {}, "est must be a \\[batch, n, time\\] tensor"),
        (torch.randn(2, 5, 100), torch.randn(2, 2, 100), dict(generalized=False), "P a multiple of K"),
    ],
)
def test_bad_inputs(est, refs, kwargs, match):
    with pytest.raises(ValueError, match=match):
        MixITWrapper(**kwargs)(est, refs)


@pytest.mark.parametrize(
    "kwargs,match",
    [(dict(loss="sdr"), "loss='sdr'"), (dict(search="beam"), "search='beam'"), (dict(reduction="sum"), "reduction")],
)
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MixITWrapper(**kwargs)


def _train(model, batches, step_loss, n_steps=12):
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for step in range(n_steps):
        loss = step_loss(*batches[step % len(batches)])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_supervised_dynamic_grouping_trains_a_p_output_model(tiny_dprnn):
    model = tiny_dprnn(n_src=2, n_outputs=4)
    sources = torch.randn(2, 2, 480)
    mix = sources.sum(1)
    wrapper = MixITWrapper("neg_snr")
    losses = _train(model, [(mix, sources)], lambda m, s: wrapper(model.forward_outputs(m), s))
    assert losses[-1] < losses[0] - 0.5


def test_unsupervised_mixit_step(tiny_dprnn):
    mixtures = torch.randn(4, 1, 480)
    moms, refs = mixtures_of_mixtures(mixtures)
    torch.testing.assert_close(moms, mixtures[0::2, 0] + mixtures[1::2, 0])
    assert torch.equal(refs[:, 1], mixtures[1::2, 0])
    model = tiny_dprnn(n_src=4)
    wrapper = MixITWrapper("thresholded_snr")
    losses = _train(model, [(moms, refs)], lambda m, r: wrapper(model(m), r))
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("bad,match", [(torch.randn(3, 100), "even batch size"), (torch.randn(2, 2, 100), "2 channels")])
def test_mixtures_of_mixtures_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        mixtures_of_mixtures(bad)
