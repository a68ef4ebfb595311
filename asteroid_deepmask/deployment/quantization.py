"""int8 for CPU deployment: dynamic quantization of a model's recurrent and linear layers.

Dynamic quantization stores the weights of LSTM, GRU and ``nn.Linear`` layers as 8-bit integers
and quantizes their inputs on the fly, call by call; the encoder, decoder, norms and
convolutions stay float32, and so do the inputs and outputs. Nothing is calibrated, so any
trained model can be quantized as it is. Two engines do it:

- torch (:func:`quantize_int8`): ``torch.ao.quantization.quantize_dynamic`` on a CPU copy of the
  model; what ``--precision int8`` runs and what an int8 TorchScript export holds.
- ONNX Runtime (:func:`quantize_onnx_int8`): its dynamic quantizer on a float32 ONNX export
  (``LSTM`` becomes ``DynamicQuantizeLSTM``, ``MatMul``/``Gemm`` of the linear layers integer
  products); what an int8 ONNX export holds.

Both keep the integer products clear of saturation on x86 CPUs without VNNI instructions (torch
reduces the activations' range itself; ONNX Runtime is given ``reduce_range``, 7-bit weights):
with full 8-bit weights, ONNX Runtime's LSTM agreed with float32 at 11 dB instead of 34 dB on the
paper's untrained baseline (``tests/deployment/test_quantization.py`` checks the agreement).

A model whose layers are all convolutions (a TCN, the sliced-attention trunk) has nothing that
dynamic quantization covers and is refused, as is a plain ``nn.RNN`` or an LSTM with
projections (torch has no dynamic int8 form of them): the error names the layer.
"""
import copy

import torch
from torch import nn

from ..utils.library_noise import library_warnings_ignored, root_logger_muted

#: The value of ``--quantize`` / ``--precision`` that asks for dynamic int8.
INT8 = "int8"
#: Layer kinds dynamic int8 quantizes, and the ONNX operators they export to.
QUANTIZED_LAYERS = {nn.LSTM: ("LSTM",), nn.GRU: ("GRU",), nn.Linear: ("MatMul", "Gemm")}


class QuantizedRNN(nn.Module):
    """A dynamically quantized LSTM or GRU where float code expects an ``nn.LSTM`` / ``nn.GRU``.

    Asteroid's ``SingleRNN`` calls ``flatten_parameters()`` before every run, which torch's
    quantized RNNs lack (their weights are packed already); the causal dual-path step reads
    ``mode``, ``num_layers`` and ``hidden_size``.

    Args:
        rnn (torch.ao.nn.quantized.dynamic.LSTM or GRU): the quantized layer.
    """

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn
        self.mode, self.num_layers, self.hidden_size = rnn.mode, rnn.num_layers, rnn.hidden_size
        self.bidirectional, self.batch_first = rnn.bidirectional, rnn.batch_first

    def flatten_parameters(self):
        """Nothing to do: the int8 weights are one packed buffer per layer."""

    def forward(self, x, hx=None):
        return self.rnn(x, hx)


def _refusal(name, module):
    """Why the layer ``module`` (named ``name``) cannot run in dynamic int8, or None."""
    if type(module) is nn.RNN:
        return (f"{name} is a plain RNN ({module.nonlinearity}), which torch's dynamic int8 does not cover; "
                "build the model with rnn_type LSTM or GRU")
    if isinstance(module, nn.LSTM) and module.proj_size:
        return f"{name} is an LSTM with projections (proj_size={module.proj_size}), which dynamic int8 does not cover"
    return None


def check_quantizable(model):
    """Raise ValueError, naming the layer and the reason, when ``model`` cannot run in dynamic int8;
    return the names of the layer kinds it would quantize (e.g. ``["LSTM", "Linear"]``)."""
    for name, module in model.named_modules():
        reason = _refusal(name, module)
        if reason:
            raise ValueError(f"Cannot quantize {type(model).__name__} to int8: {reason}; or run it in float32.")
    kinds = sorted({kind.__name__ for module in model.modules() for kind in QUANTIZED_LAYERS if type(module) is kind})
    if not kinds:
        raise ValueError(
            f"Cannot quantize {type(model).__name__} to int8: it has no LSTM, GRU or Linear layer, and dynamic int8 "
            "quantizes only those (its convolutions would stay float32, so int8 would change nothing); run it in "
            "float32, or bf16 on a CPU or GPU with bfloat16."
        )
    return kinds


def quantization_metadata(model, engine):
    """The ``quantization`` entry of an int8 export's metadata: what was quantized, how, and by which
    ``engine`` (``"torch"`` or ``"onnxruntime"``)."""
    return dict(dtype=INT8, method="dynamic", layers=check_quantizable(model), engine=engine)


def quantize_int8(model):
    """A copy of ``model`` on the CPU, in eval mode, with its LSTM, GRU and Linear layers in dynamic int8.

    Args:
        model (torch.nn.Module): a float model (any device; it is not changed).

    Raises:
        ValueError: a layer that dynamic int8 does not cover, or none that it does (see the module docstring).

    Example:
        >>> from asteroid_deepmask import DPRNNDeepMask
        >>> model = DPRNNDeepMask(n_src=2, n_filters=16, bn_chan=16, hid_size=8, n_repeats=1).eval()
        >>> int8 = quantize_int8(model)
        >>> type(int8.masker.trunk.dual_path.blocks[0].intra_RNN.rnn).__name__
        'QuantizedRNN'
        >>> int8(torch.randn(1, 800)).shape
        torch.Size([1, 2, 800])
    """
    check_quantizable(model)
    copied = copy.deepcopy(model).cpu().float().eval()
    # torch.ao.quantization warns that it is deprecated in favour of torchao, which has no int8 LSTM.
    with library_warnings_ignored():
        from torch.ao.nn.quantized import dynamic
        from torch.ao.quantization import default_dynamic_qconfig, quantize_dynamic

        quantized = quantize_dynamic(copied, {kind: default_dynamic_qconfig for kind in QUANTIZED_LAYERS}, inplace=True)
    for parent in list(quantized.modules()):
        for name, child in parent.named_children():
            if isinstance(child, (dynamic.LSTM, dynamic.GRU)):
                setattr(parent, name, QuantizedRNN(child))
    return quantized


def quantize_onnx_int8(source, target):
    """Write the dynamic int8 form of the float32 ONNX file ``source`` to ``target`` (ONNX Runtime's quantizer).

    The graph's metadata is not carried over: the caller writes its own record into ``target``.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    operators = [op for ops in QUANTIZED_LAYERS.values() for op in ops]
    with library_warnings_ignored(), root_logger_muted():
        quantize_dynamic(source, target, op_types_to_quantize=operators, weight_type=QuantType.QInt8,
                         reduce_range=True)
