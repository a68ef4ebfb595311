"""Layer-norm statistics for deployment: Asteroid's layer norms, computed centred (and in float32).

Asteroid's ``GlobLN``, ``FeatsGlobLN`` and ``ChanLN`` compute ``torch.var`` over all their axes
at once. Two deployments suffer from it: exported to ONNX, ONNX Runtime's variance of a long,
non-negative input drifts (up to 1e-3 of the output on a 17 s clip); under bfloat16 autocast on
the CPU, the variance of a bfloat16 tensor is slow (a third of the non-LSTM time of the paper's
DPRNN). :func:`centre_norm_statistics` makes the norms of a model take the mean out before
squaring, one axis at a time, optionally in another dtype. Weights and state-dict keys stay.
"""
import torch
from asteroid.masknn import norms


def centred_norm(x, dims, eps=norms.EPS):
    """``(x - mean) / std`` over ``dims``, the mean taken out before squaring, one axis at a time.

    Example:
        >>> x = 1000 + torch.randn(2, 4, 50)
        >>> y = centred_norm(x, (2, 1))
        >>> bool(y.mean().abs() < 1e-4 and (y.std(unbiased=False) - 1).abs() < 1e-3)
        True
    """
    mean = x
    for dim in dims:
        mean = mean.mean(dim, keepdim=True)
    centred = x - mean
    var = centred * centred
    for dim in dims:
        var = var.mean(dim, keepdim=True)
    return centred / torch.sqrt(var + eps)


_REDUCED_AXES = {
    norms.GlobLN: lambda x: range(x.dim() - 1, 0, -1),
    norms.FeatsGlobLN: lambda x: range(x.dim() - 1, 1, -1),
    norms.ChanLN: lambda x: (1,),
}


def centre_norm_statistics(model, dtype=None):
    """Make every Asteroid ``GlobLN``, ``FeatsGlobLN`` and ``ChanLN`` in ``model`` compute its
    statistics with :func:`centred_norm`, on its input cast to ``dtype`` if given; returns
    ``model``, changed in place (give it a copy to keep the original)."""
    for module in model.modules():
        axes = _REDUCED_AXES.get(type(module))
        if axes is not None:
            module.forward = _centred_forward(module, axes, dtype)
    return model


def _centred_forward(module, axes, dtype):
    def forward(x):
        return module.apply_gain_and_bias(centred_norm(x if dtype is None else x.to(dtype), axes(x), norms.EPS))

    return forward
