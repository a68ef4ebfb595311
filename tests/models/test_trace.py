"""Every model class and every head traces with ``torch.jit.trace``'s own check (as Asteroid's jit
tests do), and the traced module equals the eager one at other lengths and batch sizes."""
import pytest
import torch

from asteroid_deepmask import ConvTasNetDeepMask, DeepMaskTasNet, DPRNNDeepMask, SimoSisoTasNet, SlicedAttentionTasNet

DPRNN = dict(bn_chan=8, hid_size=4, chunk_size=10, n_repeats=1)
TCN = dict(n_blocks=2, n_repeats=1, bn_chan=8, hid_chan=8, skip_chan=8)
FB = dict(n_filters=16)
MODELS = {
    "dprnn": lambda **head: DPRNNDeepMask(2, **DPRNN, **FB, **head),
    "conv_tasnet": lambda **head: ConvTasNetDeepMask(2, **TCN, **FB, **head),
    "simo_siso": lambda **head: SimoSisoTasNet(2, n_simo=1, n_siso=1, bn_chan=8, hid_size=4, chunk_size=10, **FB,
                                               **head),
    "simo_siso_iterative": lambda **head: SimoSisoTasNet(2, n_simo=0, n_siso=1, bn_chan=8, hid_size=4, chunk_size=10,
                                                         **FB, **head),
    "sliced_attention_n_slices": lambda **head: SlicedAttentionTasNet(2, embed_chan=4, n_blocks=1, n_slices=3, **FB,
                                                                      **head),
    "sliced_attention_slice_len": lambda **head: SlicedAttentionTasNet(2, embed_chan=4, n_blocks=1, slice_len=8, **FB,
                                                                       **head),
    "general_tcn": lambda **head: DeepMaskTasNet(2, trunk="tcn", trunk_args=TCN, **FB, **_general(head)),
}
HEADS = {
    "linear_shared": dict(),
    "linear_per_output": dict(shared_head=False),
    "linear_p_4": dict(n_outputs=4),
    "mlp_per_output": dict(mask_head="mlp", head_hidden=4),
    "mlp_shared_p_4": dict(mask_head="mlp", head_hidden=4, shared_head=True, n_outputs=4),
    **{f"linear_p_4_{act}": dict(n_outputs=4, mask_act=act) for act in ("sigmoid", "none", "prelu", "glu", "softmax")},
}
# (batch, samples): the traced input first, then others the traced module must take.
SHAPES = [(1, 800), (2, 800), (3, 1203), (1, 417)]


def _general(head):
    """The flat head arguments of the presets as DeepMaskTasNet's ``head`` / ``head_args``."""
    head_args = {"mask_act": head.get("mask_act", "relu")}
    if head.get("mask_head") == "mlp":
        head_args["hidden"] = head["head_hidden"]
    if "shared_head" in head:
        head_args["shared"] = head["shared_head"]
    return dict(head=head.get("mask_head", "linear"), head_args=head_args, n_outputs=head.get("n_outputs"))


def assert_traces_like_eager(model, shapes=SHAPES):
    """Trace with the default check on the first shape, then compare traced and eager on all."""
    model = model.eval()
    torch.manual_seed(0)
    (batch, samples), *_ = shapes
    traced = torch.jit.trace(model, torch.randn(batch, samples))  # check_trace=True: fails if graphs differ
    with torch.no_grad():
        for batch, samples in shapes:
            wav = torch.randn(batch, samples)
            torch.testing.assert_close(traced(wav), model(wav), rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_class_traces(name):
    assert_traces_like_eager(MODELS[name]())


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
@pytest.mark.parametrize("head", list(HEADS))
def test_every_head_traces(head):
    assert_traces_like_eager(MODELS["dprnn"](**HEADS[head]), shapes=SHAPES[:3])
