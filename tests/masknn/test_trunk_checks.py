"""check_trunk passes a good trunk (registered or not) and names the check a broken one fails."""
import pytest
import torch

import asteroid_deepmask
from asteroid_deepmask.masknn import DPRNNTrunk, SimoSisoTrunk, SlicedAttentionTrunk, TCNTrunk, Trunk, check_trunk
from asteroid_deepmask.masknn.trunk import apply_projection


class Projected(Trunk):
    """A good trunk of a user: a convolution, PReLU, then P projections it exposes for folding."""

    def __init__(self, in_chan, n_outputs, width=6, kernel=3):
        super().__init__()
        self.n_outputs, self.out_chan = n_outputs, width
        self.conv = torch.nn.Conv1d(in_chan, width, kernel, padding=kernel // 2)
        self.act = torch.nn.PReLU()
        self.proj = torch.nn.Conv1d(width, n_outputs * width, 1)

    def output_projection(self):
        return self.proj

    def forward_unprojected(self, mix_rep):
        return self.act(self.conv(mix_rep)), 1

    def forward(self, mix_rep):
        batch, _, frames = mix_rep.shape
        return apply_projection(self.proj, *self.forward_unprojected(mix_rep)).reshape(
            batch, self.n_outputs, self.out_chan, frames)


class WrongShape(Projected):
    def forward(self, mix_rep):
        return super().forward(mix_rep).flatten(1, 2)


class ForgetsAnArgument(Projected):
    def get_config(self):
        return {k: v for k, v in super().get_config().items() if k != "width"}


class RenamesAnArgument(Projected):
    """A config written by hand with a name __init__ does not take."""

    def get_config(self):
        return dict(in_chan=self.conv.in_channels, n_outputs=self.n_outputs, channels=self.out_chan)


class TakesAnObject(Projected):
    def __init__(self, in_chan, n_outputs, activation=torch.nn.Tanh()):
        super().__init__(in_chan, n_outputs)
        self.act = activation


class InPlaceWithoutGradients(Projected):
    """The bug torch.jit.trace's check caught in 0.1.0: ReLU in place only when no gradient is needed."""

    def forward(self, mix_rep):
        out = super().forward(mix_rep)
        return torch.relu_(out) if not torch.is_grad_enabled() else torch.relu(out)


class BakesItsLength(Projected):
    """A Python int from the input's length: the trace keeps the traced length."""

    def forward(self, mix_rep):
        out = super().forward(mix_rep)
        return out * torch.linspace(0, 1, int(mix_rep.shape[-1]))


class ProjectsAgain(Projected):
    """forward is not output_projection() after forward_unprojected: folding would change it."""

    def forward(self, mix_rep):
        return torch.tanh(super().forward(mix_rep))


def test_a_good_trunk_passes_every_check_registered_or_not():
    report = check_trunk(Projected, dict(width=4))
    assert report.splitlines() == [
        "Projected (not registered):",
        "  interface: ok ([2, 16, 40] -> [2, 4, 4, 40])",
        "  config: ok (rebuilds from 4 arguments)",
        "  trace: ok (default check; batch 3, 57 frames)",
        "  fold: ok (folded equals unfolded)",
    ]
    assert asteroid_deepmask.check_trunk is check_trunk


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
@pytest.mark.parametrize("cls,args", [
    (DPRNNTrunk, dict(bn_chan=8, hid_size=4, chunk_size=10, n_repeats=1)),
    (DPRNNTrunk, dict(bn_chan=8, hid_size=4, chunk_size=10, hop_size=3, n_repeats=1)),
    (TCNTrunk, dict(n_blocks=2, n_repeats=1, bn_chan=8, hid_chan=8, skip_chan=8)),
    (SimoSisoTrunk, dict(n_simo=1, n_siso=1, bn_chan=8, hid_size=4, chunk_size=10)),
    (SlicedAttentionTrunk, dict(embed_chan=4, n_blocks=1, slice_len=8)),
    (SlicedAttentionTrunk, dict(embed_chan=4, n_blocks=1, n_slices=3)),
])
def test_every_built_in_trunk_passes(cls, args):
    report = check_trunk(cls, args)
    assert "registered as" in report.splitlines()[0] and "failed" not in report


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
@pytest.mark.parametrize("cls,match", [
    (torch.nn.Identity, "interface failed: A trunk must subclass"),
    (WrongShape, "interface failed: forward maps \\[2, 16, 40\\] to \\[2, 24, 40\\], not \\[2, 4, 6, 40\\]"),
    (ForgetsAnArgument, "config failed: the rebuilt trunk has other parameters .*; build every layer"),
    (RenamesAnArgument, "config failed: RenamesAnArgument\\(\\*\\*get_config\\(\\)\\) fails: .*'channels'"),
    (TakesAnObject, "config failed: get_config\\(\\) = .* holds values a weights-only load refuses"),
    (InPlaceWithoutGradients, "trace failed: torch.jit.trace's check finds two traces differ"),
    (BakesItsLength, "trace failed: the traced trunk differs from the eager one on a \\[3, 16, 57\\] input"),
    (ProjectsAgain, "fold failed: output_projection\\(\\) applied to forward_unprojected\\(x\\) differs"),
])
def test_a_broken_trunk_is_refused_naming_the_check_and_the_fix(cls, match):
    with pytest.raises(ValueError, match=f"^check_trunk: {match}"):
        check_trunk(cls, dict(width=4) if cls is ForgetsAnArgument else None)
