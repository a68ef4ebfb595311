"""Asteroid filterbanks with SpeechBrain's Encoder / Decoder interfaces.

SpeechBrain's separation interface calls ``encoder(mix)`` on ``[batch, time]`` and
``decoder(masked)`` on ``[batch, n_filters, frames]`` for each source; these wrappers give an
Asteroid model's filterbanks those signatures, so its weights run unchanged in SpeechBrain.
"""
from asteroid.masknn import activations
from asteroid_filterbanks import Decoder, Encoder, get
from torch import nn


def _filterbank(fb_name, n_filters, kernel_size, stride, sample_rate, fb_kwargs):
    return get(fb_name)(n_filters, kernel_size, stride=stride, sample_rate=sample_rate, **fb_kwargs)


class FilterbankEncoder(nn.Module):
    """Asteroid encoder (and optional activation): ``[batch, time] -> [batch, n_filters, frames]``.

    Args:
        fb_name (str): asteroid_filterbanks name (``"free"``, ``"stft"``, ...).
        n_filters, kernel_size, stride, sample_rate: the filterbank's.
        encoder_activation (str, optional): Asteroid activation after the encoder.
        **fb_kwargs: more filterbank arguments.

    Example:
        >>> import torch
        >>> FilterbankEncoder(n_filters=16)(torch.randn(2, 800)).shape
        torch.Size([2, 16, 99])
    """

    def __init__(self, fb_name="free", n_filters=64, kernel_size=16, stride=8, sample_rate=8000,
                 encoder_activation=None, **fb_kwargs):
        super().__init__()
        self.encoder = Encoder(_filterbank(fb_name, n_filters, kernel_size, stride, sample_rate, fb_kwargs))
        self.activation = activations.get(encoder_activation or "linear")()

    def forward(self, wav):
        return self.activation(self.encoder(wav.unsqueeze(1)))


class FilterbankDecoder(nn.Module):
    """Asteroid decoder: ``[batch, n_filters, frames] -> [batch, time]``.

    Args: as :class:`FilterbankEncoder`, without the activation.
    """

    def __init__(self, fb_name="free", n_filters=64, kernel_size=16, stride=8, sample_rate=8000, **fb_kwargs):
        super().__init__()
        self.decoder = Decoder(_filterbank(fb_name, n_filters, kernel_size, stride, sample_rate, fb_kwargs))

    def forward(self, masked):
        return self.decoder(masked).squeeze(1)
