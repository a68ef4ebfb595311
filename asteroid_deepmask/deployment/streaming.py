"""Separating a live stream with a causal model: a state carried from block to block, exact outputs.

A causal model (``causal=True``) encodes frames that end at a multiple of the stride: its first
frame covers ``kernel_size - stride`` zero samples and the first stride of the input, so a block
of ``n * stride`` samples completes ``n`` frames. :func:`stream_step` runs those frames through
the encoder, the trunk (:meth:`~asteroid_deepmask.masknn.Trunk.forward_streaming`), the head and
the decoder, and returns every output sample that no later frame changes. The state is a tuple of
tensors of fixed size: the encoder's last samples, the trunk's state, the decoder's overlap tail.
A model with ``mixture_consistency="uniform"`` streams exactly too: that projection gives each output
``(mixture - sum of outputs) / n_src`` sample by sample, so it is applied to the final samples with the
input samples they line up with; ``"power"`` is refused (:func:`check_consistency_streams`).
:class:`Streamer` is what a user holds (``model.streamer()``); an exported step
(:mod:`~asteroid_deepmask.deployment.streaming_export`) runs the same :func:`stream_step`.
"""
import torch

from ..losses.mixture_consistency import mixture_consistency
from ..masknn.causality import check_streamable
from ..masknn.heads import group_outputs


def stream_latency(model):
    """Samples by which a stream's output lags its input: ``kernel_size - stride``.

    After the input up to sample ``m`` (a multiple of the stride), the sources up to sample
    ``m - latency`` are final. A live system adds a block and the compute time to it.
    """
    return model.encoder.filterbank.kernel_size - model.encoder.stride


def check_consistency_streams(model):
    """Raise a ValueError for ``mixture_consistency="power"``, which a stream cannot compute.

    Its shares are each output's energy over the whole signal, which a block does not know yet;
    ``"uniform"`` shares equally, sample by sample, and streams exactly (:func:`consistent`).
    """
    if model.mixture_consistency == "power":
        raise ValueError(
            f"{type(model).__name__} has mixture_consistency='power', which shares the residual by each output's "
            "energy over the whole signal, unknown while streaming; separate whole files with it, or stream a "
            "model with mixture_consistency='uniform' or None.")


def consistent(weights, sources, mixture):
    """``sources`` ``[batch, n_src, m]`` projected onto the ``mixture`` samples ``[batch, m]`` they line up
    with, as a model with ``mixture_consistency=weights`` projects its outputs (None: unchanged).

    The model projects its P outputs with shares 1/P; the C sources sum P/C of them each (equal
    groups), so they take shares 1/C: the uniform projection of the sources themselves. Only
    ``"uniform"`` streams (:func:`check_consistency_streams` refuses the others before a stream starts).
    """
    if weights is None:
        return sources
    return mixture_consistency(sources, mixture.to(sources.dtype), "uniform")


def initial_states(model, batch, like):
    """The state of ``batch`` new streams, all zeros: ``(encoder_past, *trunk_states, decoder_tail)``.

    ``encoder_past`` ``[batch, 1, latency]`` and ``decoder_tail`` ``[batch, n_src, latency]`` (the causal
    start is zeros), the trunk's as it says (:meth:`~asteroid_deepmask.masknn.Trunk.streaming_state`): where
    its zeros stand for something else at the start, :func:`stream_start` holds that.
    """
    trunk = model.masker.trunk
    check_streamable(model, getattr(trunk, "causal", False))
    check_consistency_streams(model)
    latency = stream_latency(model)
    return (like.new_zeros(batch, 1, latency), *trunk.streaming_state(batch, like),
            like.new_zeros(batch, model.masker.n_src, latency))


def stream_start(model, like):
    """What the zeros of the trunk's states stand for at a stream's start (constants of batch 1, from the
    weights: :meth:`~asteroid_deepmask.masknn.Trunk.streaming_start`), or None when zeros are the start."""
    return model.masker.trunk.streaming_start(like)


def stream_step(model, mixture, states, frame_valid=None, start=None):
    """Separate the next samples ``mixture`` ``[batch, n]`` of streams in ``states``.

    ``frame_valid`` (optional, ``[batch, frames]``, 1 or 0 per frame this block completes) drops the frames
    past a stream's end: an exported step's last block is padded, and the frames the padding completes
    must add nothing, as in ``model(whole input)``, where they do not exist. ``start`` (optional):
    :func:`stream_start`, computed once per stream by the caller (else by the trunk when it needs it).

    Returns:
        ``(sources, states)``: ``[batch, n_src, m]``, the output samples this block made final (``m``
        is ``n`` when the stream's blocks are multiples of the stride; the first ``latency`` samples
        of a stream come before its start), and the next states.
    """
    past, trunk_states, tail = states[0], states[1:-1], states[-1]
    samples = torch.cat([past, mixture.unsqueeze(1).to(past.dtype)], dim=-1)
    kernel, stride = model.encoder.filterbank.kernel_size, model.encoder.stride
    n_frames = (samples.shape[-1] - kernel) // stride + 1
    used = n_frames * stride
    if n_frames <= 0:
        return tail.new_zeros(*tail.shape[:2], 0), (samples, *trunk_states, tail)
    tf_rep = model.enc_activation(model.encoder(samples[..., :used + kernel - stride]))  # [batch, n_filters, n_frames]
    trunk = model.masker.trunk
    # without a start, as a trunk of a user's whose forward_streaming predates the argument is called
    feats, trunk_states = (trunk.forward_streaming(tf_rep, trunk_states) if start is None
                           else trunk.forward_streaming(tf_rep, trunk_states, start))
    masks = group_outputs(model.masker.head.forward_outputs(feats), model.masker.n_src)
    masked = model.apply_masks(tf_rep, masks)  # [batch, n_src, n_filters, n_frames]
    if frame_valid is not None:
        masked = masked * frame_valid[:, None, None, :n_frames].to(masked.dtype)
    decoded = model.decoder(masked)  # [batch, n_src, used + latency]
    overlap = tail.shape[-1]
    decoded = torch.cat([decoded[..., :overlap] + tail, decoded[..., overlap:]], dim=-1)
    # the final samples line up with the encoder's input samples[..., :used] (both lag the stream by `latency`)
    final = consistent(model.mixture_consistency, decoded[..., :used], samples[:, 0, :used])
    return final, (samples[..., used:], *trunk_states, decoded[..., used:])


def skip_leading(out, to_skip):
    """``(out less its first to_skip samples, how many are still to skip)``: a stream's output starts
    ``latency`` samples before its input, and a block may be shorter than that."""
    skip = min(to_skip, out.shape[-1])
    return out[..., skip:], to_skip - skip


class Streamer:
    """Separates a batch of live streams block by block, with the outputs of the whole input at once.

    For any cut of the input into blocks (one sample to many seconds), the concatenated outputs
    of :meth:`process` and :meth:`flush` equal ``model(whole input)`` up to float rounding. The
    state has a fixed size: a block costs the same after hours as at the start. The sources keep
    one order for the whole stream.

    Args:
        model (DeepMaskEncoderMaskerDecoder): a causal model (``causal=True``), used as it is: on
            its device, in its mode (call ``model.eval()`` first when it has dropout).
        precision (str): what ``model`` computes in, as reported: ``"32"``, or ``"int8"`` for a
            :func:`~.quantization.quantize_int8` copy (whose outputs then match its whole-input
            separation to int8 rounding: dynamic int8 scales each call's inputs).

    Example:
        >>> import torch
        >>> from asteroid_deepmask import DPRNNDeepMask
        >>> model = DPRNNDeepMask(n_src=2, causal=True, hid_size=8, n_repeats=1, chunk_size=20).eval()
        >>> streamer = model.streamer()
        >>> mix = torch.randn(1, 1000)
        >>> out = torch.cat([streamer.process(mix[:, :333]), streamer.process(mix[:, 333:]), streamer.flush()], -1)
        >>> bool(torch.allclose(out, model(mix), atol=1e-5)), streamer.latency
        (True, 8)

    References:
        ESPnet's ``forward_streaming(input_frame, states)`` (the states carried by the caller).
    """

    def __init__(self, model, precision="32"):
        check_streamable(model, getattr(model.masker.trunk, "causal", False))
        check_consistency_streams(model)
        self.model, self.precision = model, precision
        self.sample_rate = float(model.sample_rate)
        self.n_src = int(model.masker.n_src)
        #: The encoder's hop, in samples: a block of ``k * stride`` samples gives ``k * stride`` outputs.
        self.stride = int(model.encoder.stride)
        #: Samples by which the output lags the input (:func:`stream_latency`).
        self.latency = stream_latency(model)
        #: Where the model, the state and the sources are (blocks are moved there), and the samples' type.
        first = next(model.parameters())
        self.device, self.dtype = first.device, first.dtype
        self.reset()

    def reset(self):
        """Forget the streams: the next block starts new ones (of any batch size)."""
        self._states = self._start = None
        self._to_skip = self.latency  # the output's first samples come before the input's start

    def process(self, block):
        """The sources of the next samples: ``[batch, n]`` in, ``[batch, n_src, m]`` out (every final sample).

        The block is moved to the model's device, where the state lives; the sources are on that device.

        Raises:
            ValueError: the block is not a 2-D float tensor of the model's dtype, or its batch size
                changed within the streams.
        """
        self._check(block)
        block = block.to(self.device)
        with torch.no_grad():
            if self._states is None:
                self._states = initial_states(self.model, block.shape[0], block)
                self._start = stream_start(self.model, block)
            out, self._states = stream_step(self.model, block, self._states, start=self._start)
        out, self._to_skip = skip_leading(out, self._to_skip)
        return out

    def flush(self):
        """The rest of the streams' sources, ``[batch, n_src, m]``; the next block starts new streams."""
        if self._states is None:
            raise ValueError("flush() ends a stream, and no block was processed since the last reset or flush.")
        past, tail = self._states[0], self._states[-1]
        # Samples after the last complete frame get no frame of their own, as in model(whole input).
        unframed = past.shape[-1] - self.latency
        out = torch.cat([tail, tail.new_zeros(*tail.shape[:2], unframed)], dim=-1)
        out = consistent(self.model.mixture_consistency, out, past[:, 0])  # past lines up with the tail
        out, _ = skip_leading(out, self._to_skip)
        self.reset()
        return out

    def _check(self, block):
        if not torch.is_tensor(block) or block.dim() != 2:
            shape = tuple(block.shape) if torch.is_tensor(block) else type(block).__name__
            raise ValueError(f"Streamer.process takes a block [batch, samples] (a 2-D tensor), got {shape}; "
                             "a single stream is block[None].")
        if block.dtype != self.dtype:
            raise ValueError(f"Streamer.process takes {self.dtype} samples, got {block.dtype}: convert them first "
                             "(16-bit integers: divide by 32768).")
        if self._states is not None and block.shape[0] != self._states[0].shape[0]:
            raise ValueError(f"This stream has a batch of {self._states[0].shape[0]}, the block {block.shape[0]}; "
                             "call reset() to start streams of another batch size.")
