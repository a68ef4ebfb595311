import json
import os

import asteroid.models
import pytest
import torch

from asteroid_deepmask import OverseparationMasker, SimoSisoTasNet, SlicedAttentionTasNet
from asteroid_deepmask.cli import main
from asteroid_deepmask.complexity import count_complexity
from asteroid_deepmask.experiment.hparams import hparams_dir
from asteroid_deepmask.masknn import SimoSisoTrunk, SlicedDotProductAttention

DPRNN_TINY = dict(bn_chan=16, hid_size=8, chunk_size=10)
SA_TINY = dict(embed_chan=4, n_blocks=1, n_heads=2)
HEADS = [
    dict(mask_head="linear"),
    dict(mask_head="mlp", head_hidden=4),
    dict(mask_head="linear", n_outputs=4),
    dict(mask_head="mlp", head_hidden=4, n_outputs=4, mask_act="sigmoid"),
]
#: The same heads in the general form: (head, head_args, n_outputs).
GENERAL_HEADS = [
    ("linear", {}, None),
    ("mlp", dict(hidden=4), None),
    ("linear", {}, 4),
    ("mlp", dict(hidden=4, mask_act="sigmoid"), 4),
]
MASKERS = [
    ("simo_siso", dict(n_simo=1, n_siso=1, **DPRNN_TINY)),
    ("simo_siso", dict(n_simo=0, n_siso=2, **DPRNN_TINY)),
    ("simo_siso", dict(n_simo=2, n_siso=0, **DPRNN_TINY)),
    ("sliced_attention", dict(n_slices=3, **SA_TINY)),
    ("sliced_attention", dict(slice_len=7, **SA_TINY)),
]
MODELS = [
    (SimoSisoTasNet, dict(n_simo=1, n_siso=1, n_filters=16, **DPRNN_TINY)),
    (SimoSisoTasNet, dict(n_simo=0, n_siso=1, n_filters=16, **DPRNN_TINY)),
    (SlicedAttentionTasNet, dict(slice_len=9, n_filters=16, **SA_TINY)),
    (SlicedAttentionTasNet, dict(fb_name="stft", n_filters=34, kernel_size=32, stride=16, **SA_TINY)),
]


@pytest.mark.parametrize("trunk,trunk_args", MASKERS)
@pytest.mark.parametrize("head,head_args,n_outputs", GENERAL_HEADS)
def test_masker_shapes_and_config(trunk, trunk_args, head, head_args, n_outputs):
    masker = OverseparationMasker.build(16, 2, trunk, trunk_args, head, head_args, n_outputs)
    x = torch.randn(2, 16, 45)
    assert masker(x).shape == (2, 2, 16, 45)
    assert masker.forward_outputs(x).shape == (2, n_outputs or 2, 16, 45)
    again = OverseparationMasker.from_config(masker.get_config())
    assert again.get_config() == masker.get_config()
    assert [q.shape for q in again.parameters()] == [q.shape for q in masker.parameters()]


@pytest.mark.parametrize("cls,kwargs", MODELS)
@pytest.mark.parametrize("head", HEADS[1:3])
def test_models_train_save_and_load(cls, kwargs, head, tmp_path):
    model = cls(n_src=2, **kwargs, **head)
    est = model(torch.randn(2, 600))
    assert est.shape == (2, 2, 600)
    (est - torch.randn_like(est)).pow(2).mean().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert cls(**model.get_model_args()).get_model_args() == model.get_model_args()
    path = tmp_path / "model.pth"
    torch.save(model.serialize(), path)
    wav = torch.randn(1, 600)
    model.eval()
    for loader in (cls, asteroid.models.BaseModel):
        assert torch.equal(loader.from_pretrained(str(path)).eval()(wav), model(wav))


def test_registration():
    assert asteroid.models.get("SimoSisoTasNet") is SimoSisoTasNet
    assert asteroid.models.get("SlicedAttentionTasNet") is SlicedAttentionTasNet


def test_siso_stage_is_shared_by_all_sources():
    two = SimoSisoTrunk(16, n_src=2, n_simo=1, n_siso=2, **DPRNN_TINY)
    three = SimoSisoTrunk(16, n_src=3, n_simo=1, n_siso=2, **DPRNN_TINY)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(two.siso) == count(three.siso) and count(two.fuse) == count(three.fuse)
    assert count(two.simo) < count(three.simo)  # only the SIMO stage's output layer grows with C


def test_siso_only_separates_iteratively():
    """Source 2's features depend on source 1's: changing the SISO stage's view of the first
    pass changes the second, and the first pass sees only the mixture."""
    trunk = SimoSisoTrunk(16, n_src=2, n_simo=0, n_siso=1, **DPRNN_TINY).eval()
    x = torch.randn(1, 16, 40)
    out = trunk(x)
    mix = trunk.bottleneck(x)
    first = trunk.siso(trunk.fuse(torch.cat([torch.zeros_like(mix), mix], 1)))
    second = trunk.siso(trunk.fuse(torch.cat([first.sum(1), mix], 1)))
    torch.testing.assert_close(out, torch.cat([first, second], 1))


def test_sliced_attention_stays_inside_slices_and_masks_padding():
    attention = SlicedDotProductAttention(n_heads=2, slice_len=7)
    q, k, v = (torch.randn(1, 4, 3, 45) for _ in range(3))
    out = attention(q, k, v)
    # The last slice holds 3 real frames (42..44) and 4 padded ones: same as attending alone.
    alone = SlicedDotProductAttention(n_heads=2, slice_len=3)(q[..., 42:], k[..., 42:], v[..., 42:])
    torch.testing.assert_close(out[..., 42:], alone)
    # Changing slice 0 (frames 0..6) leaves every other slice untouched.
    k2 = k.clone()
    k2[..., :7] += 1
    changed = (attention(q, k2, v) - out).abs().amax(dim=(0, 1, 2))
    assert changed[:7].max() > 0 and changed[7:].max() == 0


def test_attention_macs_follow_the_slices():
    """Our thop rule counts 2 * slices * slice_len^2 * channels * rows MACs per module."""
    kw = dict(n_src=2, n_filters=16, **SA_TINY)
    a = count_complexity(SlicedAttentionTasNet(slice_len=10, **kw), seconds=0.1)  # 99 frames
    b = count_complexity(SlicedAttentionTasNet(slice_len=33, **kw), seconds=0.1)
    frames, chan, rows = (800 - 16) // 8 + 1, SA_TINY["embed_chan"], 16
    expected = 2 * chan * rows * (3 * 33**2 - 10 * 10**2) * SA_TINY["n_blocks"]
    assert frames == 99 and (b["macs_g"] - a["macs_g"]) * 1e9 == pytest.approx(expected)


@pytest.mark.parametrize(
    "name,overrides",
    [("simo_siso", ["model.hid_size=8", "model.n_simo=1", "model.n_siso=1"]), ("sliced_attention_stft", ["model.embed_chan=4"])],
)
def test_complexity_reports_both_maskers(capsys, name, overrides):
    path = os.path.join(hparams_dir(), "wsj0-2mix", f"{name}.yaml")
    code = main(["complexity", path, "--json", "--seconds", "0.5", *[a for o in overrides for a in ("--set", o)]])
    rows = json.loads(capsys.readouterr().out)
    assert code == 0 and [r["name"] for r in rows] == [name]
    assert all(r["macs_g"] > 0 and r["params_m"] > 0 for r in rows)


def test_an_argument_no_part_takes_is_refused():
    with pytest.raises(TypeError, match="embed_chan"):
        SimoSisoTasNet(n_src=2, embed_chan=4)


@pytest.mark.parametrize(
    "build,match",
    [
        (lambda: SimoSisoTasNet(2, n_simo=0, n_siso=0), "n_simo \\+ n_siso = 0"),
        (lambda: SimoSisoTasNet(2, n_simo=-1), "n_simo must be an integer >= 0"),
        (lambda: SimoSisoTasNet(2, n_outputs=3), "n_outputs=3 cannot be grouped"),
        (lambda: SlicedAttentionTasNet(2, n_slices=4, slice_len=5), "exactly one of n_slices"),
        (lambda: SlicedAttentionTasNet(2, slice_len=0), "slice_len must be an integer >= 1"),
        (lambda: SlicedAttentionTasNet(2, embed_chan=6, n_heads=4), "multiple of n_heads=4"),
        (lambda: SlicedAttentionTasNet(2, mask_head="conv"), "mask_head='conv'"),
        (lambda: OverseparationMasker.build(16, 2, trunk="conv"), "Unknown trunk='conv'"),
        (lambda: OverseparationMasker.build(16, 2, head="conv"), "Unknown head='conv'"),
    ],
)
def test_bad_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_sequence_shorter_than_a_slice():
    model = SlicedAttentionTasNet(n_src=2, slice_len=50, n_filters=16, **SA_TINY)
    with pytest.raises(ValueError, match="shorter than one slice \\(slice_len=50\\)"):
        model(torch.randn(1, 200))  # 24 frames
    model = SlicedAttentionTasNet(n_src=2, n_slices=30, n_filters=16, **SA_TINY)
    with pytest.raises(ValueError, match="cannot be cut into n_slices=30"):
        model(torch.randn(1, 200))
