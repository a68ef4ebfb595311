"""bfloat16 autocast on CPUs whose oneDNN has no bfloat16 kernels (no AVX-512: many AMD EPYC hosts).

On the CPU, torch's only bfloat16 LSTM is oneDNN's; where the CPU lacks bfloat16 support, autocast
sends the LSTMs there and oneDNN fails ("could not create a primitive descriptor for the LSTM").
:func:`lstm_in_float32_without_cpu_bf16` turns torch's use of oneDNN off for such a CPU, so the
LSTMs run in float32 (autocast's fallback) and the rest in bfloat16, instead of failing.
"""
import contextlib

import torch


def cpu_has_bf16():
    """True when this CPU's oneDNN runs bfloat16 kernels (AVX-512 BF16, AMX, or the AVX-512 emulation)."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


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
