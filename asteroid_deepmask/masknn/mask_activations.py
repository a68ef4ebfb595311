"""The mask nonlinearity f of the paper's Eq. (1), applied to every output before grouping."""
import torch
from torch import nn

#: Names accepted for ``mask_act``; ``"none"``, ``"identity"`` and ``"linear"`` are one function.
MASK_ACTIVATIONS = ("relu", "sigmoid", "none", "identity", "linear", "prelu", "glu", "softmax")
_IDENTITY_NAMES = ("none", "identity", "linear")


def check_mask_act(mask_act):
    """Return ``mask_act`` lower-cased, or raise a ValueError naming the accepted values."""
    name = "none" if mask_act is None else str(mask_act).lower()
    if name not in MASK_ACTIVATIONS:
        raise ValueError(
            f"Unknown mask activation mask_act={mask_act!r}; choose one of {list(MASK_ACTIVATIONS)}."
        )
    return "none" if name in _IDENTITY_NAMES else name


class MaskActivation(nn.Module):
    """Mask nonlinearity over a stack of per-output masks.

    GLU halves the feature axis, so a head that uses it must produce ``2 * n_filters`` features
    per output (``expansion`` tells the head how many). Softmax normalises across the P outputs,
    so that after the contiguous grouping the C source masks sum to one at every
    (feature, frame) point: it is a softmax over sources, not over features.

    Args:
        mask_act (str): one of :data:`MASK_ACTIVATIONS`.

    Shapes:
        in: ``[batch, n_outputs, expansion * n_filters, frames]``;
        out: ``[batch, n_outputs, n_filters, frames]``.

    Example:
        >>> act = MaskActivation("glu")
        >>> act(torch.randn(1, 4, 2 * 64, 10)).shape
        torch.Size([1, 4, 64, 10])
    """

    def __init__(self, mask_act="relu"):
        super().__init__()
        self.mask_act = check_mask_act(mask_act)
        self.expansion = 2 if self.mask_act == "glu" else 1
        # One learnable slope, as torch's default PReLU and Asteroid's "prelu" activation.
        self.prelu = nn.PReLU() if self.mask_act == "prelu" else None

    def forward(self, x):
        """f of ``x``."""
        act = self.mask_act
        if act == "relu":
            return torch.relu(x)
        if act == "sigmoid":
            return torch.sigmoid(x)
        if act == "prelu":
            return self.prelu(x)
        if act == "glu":
            return nn.functional.glu(x, dim=2)
        if act == "softmax":
            return torch.softmax(x, dim=1)
        return x
