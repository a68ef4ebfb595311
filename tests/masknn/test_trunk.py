"""The trunk interface, the trunk and head registries, and every built-in trunk's config."""
import pytest
import torch

from asteroid_deepmask import DeepMaskTasNet, MaskerHead, Trunk, register_head, register_trunk
from asteroid_deepmask.masknn import TRUNKS, OverseparationMasker, RecordsConfig, build_trunk
from asteroid_deepmask.masknn.heads import HEADS

TINY_TRUNKS = {
    "dprnn": dict(bn_chan=8, hid_size=4, chunk_size=10, n_repeats=1),
    "simo_siso": dict(n_simo=1, n_siso=1, bn_chan=8, hid_size=4, chunk_size=10),
    "sliced_attention": dict(embed_chan=4, n_blocks=1, slice_len=8),
    "tcn": dict(n_blocks=2, n_repeats=1, bn_chan=8, hid_chan=8, skip_chan=8),
}


class Scaled(Trunk):
    """A trunk of a user: P scaled copies of a 1x1 projection."""

    def __init__(self, in_chan, n_outputs, width=8, **extra):
        super().__init__()
        self.n_outputs, self.out_chan = n_outputs, width
        self.proj = torch.nn.Conv1d(in_chan, n_outputs * width, 1)

    def forward(self, mix_rep):
        batch, _, frames = mix_rep.shape
        return self.proj(mix_rep).reshape(batch, self.n_outputs, self.out_chan, frames)


class MoreScaled(Scaled):
    def __init__(self, in_chan, n_outputs, depth=2):
        super().__init__(in_chan, n_outputs, width=4)


def test_every_built_in_trunk_is_registered_and_its_config_round_trips():
    assert set(TINY_TRUNKS) <= set(TRUNKS.names())
    for name, args in TINY_TRUNKS.items():
        trunk = build_trunk(name, in_chan=16, n_src=2, n_outputs=4, trunk_args=args)
        config = trunk.get_config()
        assert config["in_chan"] == 16 and config["n_outputs"] == 4, name
        again = type(trunk)(**config)
        assert again.get_config() == config, name
        assert [p.shape for p in again.parameters()] == [p.shape for p in trunk.parameters()], name
        assert trunk(torch.randn(2, 16, 40)).shape == (2, 4, trunk.out_chan, 40), name


def test_config_records_defaults_extras_and_the_outermost_init_only():
    assert Scaled(4, 2, colour="red").get_config() == {"in_chan": 4, "n_outputs": 2, "width": 8, "colour": "red"}
    assert MoreScaled(4, 2).get_config() == {"in_chan": 4, "n_outputs": 2, "depth": 2}


def test_heads_record_their_config_as_trunks_do():
    assert issubclass(Trunk, RecordsConfig) and issubclass(MaskerHead, RecordsConfig)
    mlp = HEADS.get("mlp")(8, n_src=2, n_outputs=4, hidden=5)
    assert mlp.get_config() == dict(in_chan=8, n_src=2, out_chan=None, n_outputs=4, mask_act="relu", hidden=5,
                                    shared=False)
    again = HEADS.get("mlp")(**mlp.get_config())
    assert [p.shape for p in again.parameters()] == [p.shape for p in mlp.parameters()]

    class Halved(MaskerHead):  # a head of a user, with no __init__ of its own
        def _build_layers(self, n_copies, final_chan):
            return torch.nn.Conv1d(n_copies * self.in_chan, n_copies * final_chan, 1, groups=n_copies)

    assert Halved(6, n_src=2, mask_act="sigmoid").get_config()["mask_act"] == "sigmoid"


def test_a_registered_user_trunk_and_head_build_a_model_that_round_trips(monkeypatch):
    # The registrations end with the test: other tests list the registered names.
    monkeypatch.setattr(TRUNKS, "_classes", dict(TRUNKS._classes))
    monkeypatch.setattr(HEADS, "_classes", dict(HEADS._classes))
    register_trunk("test_scaled", Scaled)
    register_trunk("test_scaled", Scaled)  # again: harmless

    @register_head("test_halved")
    class Halved(MaskerHead):
        def _build_layers(self, n_copies, final_chan):
            return torch.nn.Conv1d(n_copies * self.in_chan, n_copies * final_chan, 1, groups=n_copies)

    model = DeepMaskTasNet(n_src=2, trunk="test_scaled", trunk_args=dict(width=6), head="test_halved",
                           head_args=dict(mask_act="sigmoid"), n_outputs=4, n_filters=16)
    assert model(torch.randn(1, 400)).shape == (1, 2, 400)
    args = model.get_model_args()
    assert args["trunk_args"] == {"width": 6} and args["head_args"]["mask_act"] == "sigmoid"
    again = DeepMaskTasNet(**args)
    assert again.get_model_args() == args and again.masker.trunk.out_chan == 6
    masker = OverseparationMasker.from_config(model.masker.get_config())
    assert masker.get_config() == model.masker.get_config()


class NoForward(Trunk):
    def __init__(self, in_chan, n_outputs):
        super().__init__()


class NoOutputs(Trunk):
    def __init__(self, in_chan, outputs):
        super().__init__()

    def forward(self, mix_rep):
        return mix_rep


class ForgetsItsShape(Trunk):
    def __init__(self, in_chan, n_outputs):
        super().__init__()

    def forward(self, mix_rep):
        return mix_rep


@pytest.mark.parametrize(
    "cls,error,match",
    [
        (torch.nn.Identity, TypeError, "must subclass asteroid_deepmask.masknn.trunk.Trunk"),
        (NoForward, TypeError, "does not implement \\['forward'\\]"),
        (NoOutputs, TypeError, "must take \\['n_outputs'\\]"),
    ],
)
def test_registration_checks_the_class(cls, error, match):
    with pytest.raises(error, match=match):
        register_trunk("test_bad", cls)
    assert "test_bad" not in TRUNKS.names()


def test_registration_refuses_a_taken_name_and_bad_builds_are_named():
    with pytest.raises(ValueError, match="trunk named 'dprnn' is already registered"):
        register_trunk("dprnn", Scaled)
    with pytest.raises(ValueError, match="head named 'mlp' is already registered"):
        register_head("mlp", HEADS.get("linear"))
    register_trunk("test_forgets", ForgetsItsShape)
    with pytest.raises(TypeError, match="must set self.n_outputs \\(= 2\\) and self.out_chan"):
        build_trunk("test_forgets", 16, n_src=2, n_outputs=2)
    with pytest.raises(ValueError, match="trunk_args must not set \\['n_outputs'\\]"):
        build_trunk("dprnn", 16, n_src=2, n_outputs=2, trunk_args=dict(n_outputs=4))
    with pytest.raises(ValueError, match="Unknown trunk='nope'.*register_trunk"):
        DeepMaskTasNet(n_src=2, trunk="nope")


def test_an_unregistered_trunk_has_no_config_to_save():
    class Unnamed(Scaled):
        pass

    masker = OverseparationMasker(Unnamed(16, 2), HEADS.get("linear")(8, n_src=2, out_chan=16))
    with pytest.raises(ValueError, match="Unnamed is not a registered trunk"):
        masker.get_config()
