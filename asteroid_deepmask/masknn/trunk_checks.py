"""``check_trunk``: whether a trunk of yours rebuilds from its config, traces and folds correctly."""
import io

import torch

from .trunk import TRUNKS, apply_projection, build_trunk


def check_trunk(cls, trunk_args=None, in_chan=16, n_src=2, n_outputs=4, frames=(40, 57)):
    """Check a :class:`~.trunk.Trunk` subclass, registered or not, the way the models use it.

    1. **interface**: it subclasses ``Trunk``, implements ``forward``, takes ``in_chan`` and
       ``n_outputs``, sets ``n_outputs`` and ``out_chan``, and maps ``[batch, in_chan, frames]``
       to ``[batch, n_outputs, out_chan, frames]``;
    2. **config**: ``get_config()`` holds plain values (a weights-only load reads them back) and
       ``cls(**config)`` rebuilds the same trunk: the same config, parameters and outputs;
    3. **trace**: ``torch.jit.trace`` with its default check passes, and the traced trunk equals
       the eager one at another batch size and length;
    4. **fold**: if it exposes ``output_projection()`` (a 1x1 convolution), ``forward`` equals
       that layer applied to ``forward_unprojected`` (what a masker computes when it folds the
       layer into the head), so folding changes nothing.

    Args:
        cls (type): the trunk class.
        trunk_args (dict, optional): its own arguments for the checks (small sizes run faster).
        in_chan (int, optional): input features. Defaults to 16.
        n_src (int, optional): sources, for a trunk that takes ``n_src``. Defaults to 2.
        n_outputs (int, optional): outputs P. Defaults to 4.
        frames (tuple of int, optional): the traced length, then the other. Defaults to (40, 57).

    Returns:
        str: a report, one line per check.

    Raises:
        ValueError: the first check that fails, with what to change.

    Example:
        >>> from asteroid_deepmask.masknn import DPRNNTrunk
        >>> print(check_trunk(DPRNNTrunk, dict(bn_chan=8, hid_size=4, chunk_size=10, n_repeats=1)))
        DPRNNTrunk (registered as 'dprnn'):
          interface: ok ([2, 16, 40] -> [2, 4, 8, 40])
          config: ok (rebuilds from 13 arguments)
          trace: ok (default check; batch 3, 57 frames)
          fold: ok (folded equals unfolded)
    """
    trunk_args = dict(trunk_args or {})
    lines = [_interface(cls, trunk_args, in_chan, n_src, n_outputs, frames[0])]
    torch.manual_seed(0)
    trunk = build_trunk(cls, in_chan, n_src, n_outputs, trunk_args).eval()
    inputs = [torch.randn(2, in_chan, frames[0]), torch.randn(3, in_chan, frames[-1])]
    lines += [_config(trunk, inputs[0]), _trace(trunk, inputs), _fold(trunk, inputs)]
    try:
        name = f"registered as {TRUNKS.name_of(trunk)!r}"
    except ValueError:
        name = "not registered"
    return "\n".join([f"{cls.__name__} ({name}):", *(f"  {line}" for line in lines)])


def _fail(check, problem, fix):
    raise ValueError(f"check_trunk: {check} failed: {problem}; {fix}.")


def _interface(cls, trunk_args, in_chan, n_src, n_outputs, n_frames):
    try:
        TRUNKS.check_class(cls)
        trunk = build_trunk(cls, in_chan, n_src, n_outputs, trunk_args)
    except (TypeError, ValueError) as error:
        _fail("interface", str(error).rstrip("."), "see asteroid_deepmask.Trunk for what a trunk must do")
    x = torch.randn(2, in_chan, n_frames)
    with torch.no_grad():
        out = trunk.eval()(x)
    expected = (2, n_outputs, trunk.out_chan, n_frames)
    if tuple(out.shape) != expected:
        _fail("interface", f"forward maps {list(x.shape)} to {list(out.shape)}, not {list(expected)}",
              "return [batch, n_outputs, out_chan, frames]")
    return f"interface: ok ({list(x.shape)} -> {list(expected)})"


def _config(trunk, x):
    config = trunk.get_config()
    buffer = io.BytesIO()
    torch.save(config, buffer)
    buffer.seek(0)
    try:
        torch.load(buffer, weights_only=True)
    except Exception:  # the unpickler's error names a class, not the argument
        _fail("config", f"get_config() = {config!r} holds values a weights-only load refuses",
              "take str, int, float, bool, None, lists and dicts as arguments (a name, not an object)")
    try:
        again = type(trunk)(**config).eval()
    except TypeError as error:
        _fail("config", f"{type(trunk).__name__}(**get_config()) fails: {error}",
              "let get_config() return exactly the arguments of __init__ (the recorded ones unless you override it)")
    if again.get_config() != config:
        _fail("config", f"the rebuilt trunk's config is {again.get_config()}, not {config}",
              "do not change the arguments in __init__; keep what was given and derive other values from it")
    try:
        again.load_state_dict(trunk.state_dict())
    except RuntimeError as error:
        _fail("config", f"the rebuilt trunk has other parameters ({str(error).splitlines()[0]})",
              "build every layer from the arguments of __init__ only")
    with torch.no_grad():
        if not torch.equal(again(x), trunk(x)):
            _fail("config", "the rebuilt trunk, with the same weights, gives other outputs",
                  "make forward depend on the arguments and the weights only")
    return f"config: ok (rebuilds from {len(config)} arguments)"


def _trace(trunk, inputs):
    try:
        traced = torch.jit.trace(trunk, inputs[0])
    except torch.jit.TracingCheckError as error:
        _fail("trace", f"torch.jit.trace's check finds two traces differ ({str(error).splitlines()[1].strip()})",
              "run the same operations whatever the grad mode (no in-place variant chosen by torch.is_grad_enabled())")
    except Exception as error:
        _fail("trace", f"torch.jit.trace raises {type(error).__name__}: {str(error).splitlines()[0]}",
              "return tensors only, from tensor operations")
    with torch.no_grad():
        for x in inputs:
            try:
                same = torch.allclose(traced(x), trunk(x), rtol=1e-5, atol=1e-6)
            except RuntimeError:  # a size the trace kept from its own input
                same = False
            if not same:
                _fail("trace", f"the traced trunk differs from the eager one on a {list(x.shape)} input",
                      "compute sizes with tensor operations (x.shape[-1], not int(...) or a Python list), "
                      "so that a trace takes any batch and length")
    batch, _, n_frames = inputs[-1].shape
    return f"trace: ok (default check; batch {batch}, {n_frames} frames)"


def _fold(trunk, inputs):
    projection = trunk.output_projection()
    if projection is None:
        return "fold: not applicable (no output_projection)"
    expected = trunk.n_outputs * trunk.out_chan
    if not (isinstance(projection, (torch.nn.Conv1d, torch.nn.Conv2d)) and set(projection.kernel_size) == {1}
            and projection.out_channels == expected and projection.bias is not None):
        _fail("fold", f"output_projection() is {projection}, not a 1x1 convolution with a bias and {expected} outputs",
              "return the trunk's last 1x1 convolution (n_outputs * out_chan channels), or None")
    with torch.no_grad():
        for x in inputs:
            folded = apply_projection(projection, *trunk.forward_unprojected(x))
            if not torch.allclose(folded.reshape(trunk(x).shape), trunk(x), rtol=1e-5, atol=1e-6):
                _fail("fold", "output_projection() applied to forward_unprojected(x) differs from forward(x)",
                      "make forward apply output_projection() last, to what forward_unprojected returns "
                      "(with its bias added bias_scale times)")
    return "fold: ok (folded equals unfolded)"
