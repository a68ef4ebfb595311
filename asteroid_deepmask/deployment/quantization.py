"""int8 for CPU deployment: dynamic quantization of a model's recurrent, linear and 1x1 convolution layers.

Dynamic quantization stores the weights of LSTM, GRU and ``nn.Linear`` layers as 8-bit integers
and quantizes their inputs on the fly, call by call; nothing is calibrated, so any trained model
can be quantized as it is. A 1x1 ``nn.Conv1d`` is a linear layer applied at every frame, so
:func:`prepare_int8` first rewrites each one that the model runs as a layer into a
:class:`PointwiseLinear` (the same products, channels last): Conv-TasNet's blocks, the
bottlenecks and the heads' layers are then quantized too. The encoder, decoder, norms, depthwise
and 2-D convolutions stay float32, and so do the inputs and outputs, and the trunk's last 1x1
layer with the head layer folded into it (the masker multiplies their float weights into one
product per call, :class:`~asteroid_deepmask.masknn.overseparation.OverseparationMasker`).
2-D 1x1 convolutions (the sliced-attention trunk's Q/K/V and pointwise layers) stay float32 by
choice: on its ``[batch, 64, n_filters, frames]`` maps, quantizing them made that model slower
(README, "int8 on the CPU"). Two engines do it:

- torch (:func:`quantize_int8`): ``torch.ao.quantization.quantize_dynamic`` on the prepared
  copy; what ``--precision int8`` runs and what an int8 TorchScript export holds.
- ONNX Runtime (:func:`quantize_onnx_int8`): its dynamic quantizer on a float32 ONNX export of
  the prepared copy (``LSTM`` becomes ``DynamicQuantizeLSTM``, the ``MatMul``/``Gemm`` of the
  linear layers integer products); what an int8 ONNX export holds.

Both keep the integer products clear of saturation on x86 CPUs without VNNI instructions (torch
reduces the activations' range itself; ONNX Runtime is given ``reduce_range``, 7-bit weights):
with full 8-bit weights, ONNX Runtime's LSTM agreed with float32 at 11 dB instead of 34 dB on the
paper's untrained baseline (``tests/deployment/test_quantization.py`` checks the agreement).

A plain ``nn.RNN`` or an LSTM with projections (torch has no dynamic int8 form of them) is
refused, as is a model with none of these layers: the error names the layer.
"""
import copy

import torch
from torch import nn

from ..utils.library_noise import library_warnings_ignored, root_logger_muted

#: The value of ``--quantize`` / ``--precision`` that asks for dynamic int8.
INT8 = "int8"
#: Layer kinds dynamic int8 quantizes, and the ONNX operators they export to.
QUANTIZED_LAYERS = {nn.LSTM: ("LSTM",), nn.GRU: ("GRU",), nn.Linear: ("MatMul", "Gemm")}
#: What the metadata calls the 1x1 convolutions quantized as :class:`PointwiseLinear`.
POINTWISE_KIND = "Conv1x1"


class PointwiseLinear(nn.Module):
    """A 1x1 ``nn.Conv1d`` as ``nn.Linear`` layers over the channels, one per group: the form dynamic int8 quantizes.

    Its outputs equal the convolution's up to float rounding; :func:`quantize_int8` then turns its
    ``nn.Linear`` layers into int8 ones.

    Args:
        conv (nn.Conv1d): a convolution of kernel 1, stride 1 and no padding (:meth:`fits`); its weights are copied.

    Shapes:
        ``[batch, in_channels, frames] -> [batch, out_channels, frames]``.

    Example:
        >>> conv = nn.Conv1d(8, 6, 1, groups=2)
        >>> x = torch.randn(3, 8, 50)
        >>> torch.allclose(PointwiseLinear(conv)(x), conv(x), atol=1e-6)
        True
    """

    def __init__(self, conv):
        super().__init__()
        self.groups = conv.groups
        weights = conv.weight.detach().flatten(1).chunk(self.groups)  # [out / groups, in / groups] each
        biases = conv.bias.detach().chunk(self.groups) if conv.bias is not None else [None] * self.groups
        self.linears = nn.ModuleList()
        for weight, bias in zip(weights, biases):
            linear = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
            with torch.no_grad():
                linear.weight.copy_(weight)
                if bias is not None:
                    linear.bias.copy_(bias)
            self.linears.append(linear)

    @staticmethod
    def fits(module):
        """Whether ``module`` is a convolution this class stands for: ``nn.Conv1d``, kernel 1, stride 1, no padding."""
        return (type(module) is nn.Conv1d and module.kernel_size == (1,) and module.stride == (1,)
                and module.padding in ((0,), "valid"))

    def forward(self, x):
        return self.channels_last(x.transpose(1, 2)).transpose(1, 2)

    def channels_last(self, x):
        """The same on ``x`` ``[batch, frames, in_channels]``: ``[batch, frames, out_channels]``, no transposes."""
        if self.groups == 1:  # no concatenation of one part: an exported graph would copy it
            return self.linears[0](x)
        parts = x.chunk(self.groups, -1)
        return torch.cat([linear(part) for linear, part in zip(self.linears, parts)], -1)


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
    return the names of the layer kinds it would quantize (e.g. ``["Conv1x1", "LSTM", "Linear"]``, the 1x1
    convolutions counted once :func:`prepare_int8` made them :class:`PointwiseLinear`)."""
    for name, module in model.named_modules():
        reason = _refusal(name, module)
        if reason:
            raise ValueError(f"Cannot quantize {type(model).__name__} to int8: {reason}; or run it in float32.")
    pointwise = {id(linear) for module in model.modules() if isinstance(module, PointwiseLinear)
                 for linear in module.linears}
    kinds = {kind.__name__ for module in model.modules() for kind in QUANTIZED_LAYERS
             if type(module) is kind and id(module) not in pointwise}
    kinds |= {POINTWISE_KIND} if pointwise else set()
    if not kinds:
        raise ValueError(
            f"Cannot quantize {type(model).__name__} to int8: it has no LSTM, GRU, Linear or 1x1 convolution layer, "
            "and dynamic int8 quantizes only those (everything else would stay float32, so int8 would change "
            "nothing); run it in float32, or bf16 on a CPU or GPU with bfloat16."
        )
    return sorted(kinds)


def quantization_metadata(model, engine):
    """The ``quantization`` entry of an int8 export's metadata: what was quantized, how, and by which
    ``engine`` (``"torch"`` or ``"onnxruntime"``)."""
    return dict(dtype=INT8, method="dynamic", layers=check_quantizable(model), engine=engine)


def prepare_int8(model):
    """A float32 copy of ``model`` on the CPU, in eval mode, in the form both engines quantize: each 1x1
    convolution that it runs as a layer turned into a :class:`PointwiseLinear`.

    Which convolutions run as layers is seen by running the copy once on a second of noise: those
    whose weights the model reads itself (the folded pair of a masker) are not called, and stay.

    Args:
        model (DeepMaskEncoderMaskerDecoder): a float model (any device; it is not changed).

    Raises:
        ValueError: a layer that dynamic int8 does not cover, or none that it does (:func:`check_quantizable`).
    """
    prepared = copy.deepcopy(model).cpu().float().eval()
    for parent, name in _pointwise_convs_called(prepared):
        setattr(parent, name, PointwiseLinear(getattr(parent, name)))
    check_quantizable(prepared)
    return prepared


def _pointwise_convs_called(model):
    """``(parent, name)`` of each convolution :class:`PointwiseLinear` fits that ``model`` calls as a layer."""
    slots = [(parent, name, child) for parent in model.modules() for name, child in parent.named_children()
             if PointwiseLinear.fits(child)]
    called = set()
    hooks = [child.register_forward_hook(lambda module, args, out: called.add(id(module))) for _, _, child in slots]
    try:
        with torch.no_grad():
            model(torch.randn(1, int(model.sample_rate), generator=torch.Generator().manual_seed(0)))
    finally:
        for hook in hooks:
            hook.remove()
    return [(parent, name) for parent, name, child in slots if id(child) in called]


def quantize_int8(model):
    """A copy of ``model`` on the CPU, in eval mode, with its LSTM, GRU, Linear and 1x1 convolution layers in
    dynamic int8 (:func:`prepare_int8`, then torch's dynamic quantization).

    Args:
        model (DeepMaskEncoderMaskerDecoder): a float model (any device; it is not changed).

    Raises:
        ValueError: a layer that dynamic int8 does not cover, or none that it does (see the module docstring).

    Example:
        >>> from asteroid_deepmask import DPRNNDeepMask
        >>> model = DPRNNDeepMask(n_src=2, n_filters=16, bn_chan=16, hid_size=8, n_repeats=1).eval()
        >>> int8 = quantize_int8(model)
        >>> type(int8.masker.trunk.dual_path.blocks[0].intra_RNN.rnn).__name__
        'QuantizedRNN'
        >>> type(int8.masker.trunk.bottleneck[1]).__name__  # a 1x1 convolution
        'PointwiseLinear'
        >>> int8(torch.randn(1, 800)).shape
        torch.Size([1, 2, 800])
    """
    return quantize_prepared_int8(prepare_int8(model))


def quantize_prepared_int8(prepared):
    """torch's dynamic int8 of ``prepared``, a :func:`prepare_int8` copy, which it changes and returns."""
    # torch.ao.quantization warns that it is deprecated in favour of torchao, which has no int8 LSTM.
    with library_warnings_ignored():
        from torch.ao.nn.quantized import dynamic
        from torch.ao.quantization import default_dynamic_qconfig, quantize_dynamic

        quantized = quantize_dynamic(prepared, {kind: default_dynamic_qconfig for kind in QUANTIZED_LAYERS}, inplace=True)
    for parent in list(quantized.modules()):
        for name, child in parent.named_children():
            if isinstance(child, (dynamic.LSTM, dynamic.GRU)):
                setattr(parent, name, QuantizedRNN(child))
    return quantized


def quantize_onnx_int8(source, target):
    """Write the dynamic int8 form of the float32 ONNX file ``source`` (an export of a :func:`prepare_int8` copy)
    to ``target`` (ONNX Runtime's quantizer).

    The graph's metadata is not carried over: the caller writes its own record into ``target``.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    operators = [op for ops in QUANTIZED_LAYERS.values() for op in ops]
    with library_warnings_ignored(), root_logger_muted():
        quantize_dynamic(source, target, op_types_to_quantize=operators, weight_type=QuantType.QInt8,
                         reduce_range=True)
