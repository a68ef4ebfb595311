"""Teacher-student MixIT: a MixIT teacher's outputs grouped into the targets of a student with fewer outputs.

A model trained with MixIT over-separates: one talker comes out over several of its P outputs.
Zhang et al., "Teacher-student MixIT for unsupervised and semi-supervised speech separation"
(Interspeech 2021, arXiv 2106.07843) label each training mixture with a trained MixIT teacher and train
a student with fewer outputs on those labels with permutation-invariant training; the authors report
that this resolves the over-separation.

The grouping here (ours): the teacher's C most energetic outputs are the anchors, and every other
output joins the anchor whose frame-energy envelope it follows most closely (the largest correlation
coefficient of the envelopes, :func:`~.covariance.centred_envelopes`): the fragments of a talker
(its bands, its harmonics) rise and fall with its strongest part, while an SNR-best assignment would
put every fragment with the loudest anchor, the one it harms least. The targets sum to the teacher's
outputs (to the mixture, with a mixture-consistent teacher).
"""
import torch

from .covariance import centred_envelopes


def group_teacher_outputs(outputs, n_groups, frame):
    """The teacher's outputs summed into ``n_groups`` targets around its loudest ones (see the module docstring).

    Args:
        outputs (torch.Tensor): a teacher's outputs ``[batch, P, time]``.
        n_groups (int): the student's outputs C, ``1 <= C <= P``.
        frame (int): samples per envelope frame (training uses :data:`~.covariance.ENVELOPE_FRAME_S` times
            the sample rate: 256 at 8 kHz).

    Returns:
        torch.Tensor: ``[batch, C, time]``, loudest anchor first, summing to ``outputs.sum(1)``.

    Example:
        >>> noise = torch.randn(3, 1600, generator=torch.Generator().manual_seed(0))
        >>> first = (torch.arange(1600) < 800).float()  # talker a speaks first, talker b after
        >>> a_low, a_high, b = noise[0] * first, 0.5 * noise[1] * first, noise[2] * (1 - first)
        >>> groups = group_teacher_outputs(torch.stack([a_low, b, a_high])[None], 2, frame=100)
        >>> torch.allclose(groups[0], torch.stack([a_low + a_high, b]))  # a's fragment joins a, not b
        True
    """
    if not torch.is_tensor(outputs) or outputs.dim() != 3:
        raise ValueError(f"outputs must be a [batch, P, time] tensor, got {getattr(outputs, 'shape', outputs)}.")
    batch, n_outputs, _ = outputs.shape
    if not 1 <= n_groups <= n_outputs:
        raise ValueError(f"n_groups={n_groups} must be from 1 to the teacher's {n_outputs} outputs.")
    with torch.no_grad():
        order = outputs.pow(2).sum(-1).argsort(dim=-1, descending=True, stable=True)[:, :n_groups]  # [batch, C]
        envelopes = centred_envelopes(outputs.double(), frame)
        envelopes = envelopes / (envelopes.norm(dim=-1, keepdim=True) + 1e-30)
        anchors = torch.gather(envelopes, 1, order[..., None].expand(-1, -1, envelopes.shape[-1]))
        group = (envelopes @ anchors.transpose(1, 2)).argmax(-1)  # [batch, P]: the closest anchor's rank
        # an anchor is its own group, whatever its envelope
        group.scatter_(1, order, torch.arange(n_groups, device=outputs.device).expand(batch, -1))
        onehot = torch.nn.functional.one_hot(group, n_groups).transpose(1, 2).to(outputs.dtype)  # [batch, C, P]
    return onehot @ outputs
