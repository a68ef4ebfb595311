import copy

import pytest
import torch
from asteroid.masknn import norms

from asteroid_deepmask.masknn.norm_statistics import centre_norm_statistics


@pytest.mark.parametrize("norm, shape", [(norms.GlobLN, (2, 6, 50)), (norms.GlobLN, (2, 6, 10, 7)),
                                         (norms.FeatsGlobLN, (2, 6, 50)), (norms.ChanLN, (2, 6, 10, 7))])
def test_centred_statistics_equal_asteroids(norm, shape):
    torch.manual_seed(0)
    layer = norm(6)
    layer.gamma.data.uniform_(0.5, 1.5), layer.beta.data.uniform_(-1, 1)
    x = 3 + 2 * torch.randn(*shape)
    expected = layer(x)
    centred = centre_norm_statistics(copy.deepcopy(torch.nn.Sequential(layer)))
    torch.testing.assert_close(centred(x), expected, atol=1e-5, rtol=0)
    in_float = centre_norm_statistics(copy.deepcopy(torch.nn.Sequential(layer)), torch.float32)
    out = in_float(x.bfloat16())
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, layer(x.bfloat16().float()), atol=1e-5, rtol=0)


def test_bf16_separator_leaves_the_model_alone(tiny_dprnn):
    from asteroid_deepmask.deployment.separators import TorchSeparator

    model = tiny_dprnn().eval()
    separator = TorchSeparator.from_model(model, precision="bf16")
    assert separator.module is not model
    assert all("forward" not in vars(m) for m in model.modules())
    mix = torch.randn(2, 4000)
    with torch.no_grad():
        full = model(mix)
    half = separator(mix)
    assert half.dtype == torch.float32 and not torch.equal(half, full)
    assert ((half - full).norm() / full.norm()) < 0.1
