"""bfloat16 autocast on CPUs whose oneDNN has no bfloat16 kernels (no AVX-512: many AMD EPYC hosts).

On the CPU, torch's only bfloat16 LSTM is oneDNN's; where the CPU lacks bfloat16 support, autocast
sends the LSTMs there and oneDNN fails ("could not create a primitive descriptor for the LSTM").
:func:`lstm_in_float32_without_cpu_bf16` turns torch's use of oneDNN off for such a CPU, so the
LSTMs run in float32 (autocast's fallback) and the rest in bfloat16, instead of failing; what
runs in bfloat16 there is emulated in software and slow, so :func:`warn_if_bf16_emulated` says so.
"""
import contextlib
import warnings

import torch

from .errors import UserFacingWarning


class EmulatedBF16Warning(UserFacingWarning):
    """bfloat16 asked of a CPU without bfloat16 kernels, where it runs slower than float32."""


def cpu_has_bf16():
    """True when this CPU's oneDNN runs bfloat16 kernels (AVX-512 BF16, AMX, or the AVX-512 emulation)."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def warn_if_bf16_emulated(device_type="cpu"):
    """Warn (:class:`EmulatedBF16Warning`) when bfloat16 is asked of a CPU without bfloat16 kernels: its
    products then run in software, several times slower than float32 (12x for the paper's baseline on an
    AMD EPYC host without AVX-512, ``benchmarks/bench_export.py``)."""
    if device_type == "cpu" and not cpu_has_bf16():
        warnings.warn("this CPU has no bfloat16 kernels (no AVX-512 BF16 or AMX), so bf16 runs emulated in "
                      "software, several times slower than float32: use --precision 32, or int8 for speed on "
                      "the CPU.", EmulatedBF16Warning, stacklevel=2)


@contextlib.contextmanager
def lstm_in_float32_without_cpu_bf16(device_type="cpu"):
    """Within it, bfloat16 autocast on a CPU without bfloat16 kernels keeps LSTMs in float32; elsewhere it does nothing.

    Example:
        >>> lstm = torch.nn.LSTM(4, 4)
        >>> with lstm_in_float32_without_cpu_bf16(), torch.autocast("cpu", dtype=torch.bfloat16):
        ...     out, _ = lstm(torch.randn(3, 1, 4))
        >>> out.shape
        torch.Size([3, 1, 4])
    """
    if device_type != "cpu" or cpu_has_bf16():
        yield
        return
    enabled = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = enabled
