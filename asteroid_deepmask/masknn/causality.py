"""What makes a trunk causal: layer norms that look at one frame only, and the defaults it implies."""

#: Layer norms (Asteroid's names) whose statistics come from the current frame alone: ``cLN``
#: normalises each frame over its channels. ``gLN`` (the paper's) uses the whole utterance.
CAUSAL_NORMS = ("cLN",)


def resolve_norm(norm_type, causal):
    """The layer norm a trunk uses: ``norm_type``, or when it is None ``"cLN"`` if causal else ``"gLN"``.

    Raises:
        ValueError: a causal trunk is given a norm that looks at future frames.

    Example:
        >>> resolve_norm(None, causal=True), resolve_norm(None, causal=False)
        ('cLN', 'gLN')
    """
    if norm_type is None:
        return CAUSAL_NORMS[0] if causal else "gLN"
    if causal and norm_type not in CAUSAL_NORMS:
        raise ValueError(
            f"norm_type={norm_type!r} normalises over the whole utterance, which a causal trunk cannot see; "
            f"use one of {list(CAUSAL_NORMS)} (per frame) or leave norm_type unset."
        )
    return norm_type


def resolve_direction(bidirectional, causal):
    """Whether a DPRNN's RNNs read both ways: ``bidirectional``, or when it is None True unless causal.

    Raises:
        ValueError: a value that is not a bool or None, or ``bidirectional=True`` for a causal trunk.

    Example:
        >>> resolve_direction(None, causal=True), resolve_direction(None, causal=False)
        (False, True)
    """
    if bidirectional is not None and not isinstance(bidirectional, bool):
        raise ValueError(f"bidirectional must be True or False, got bidirectional={bidirectional!r} "
                         "(or None: True, or False when causal).")
    if bidirectional is None:
        return not causal
    if causal and bidirectional:
        raise ValueError("bidirectional=True reads each sequence backwards from its end, which a causal DPRNN "
                         "cannot see; leave it out (causal RNNs are unidirectional).")
    return bidirectional


def check_streamable(module, causal):
    """Raise a ValueError naming ``causal=True`` unless ``causal``: only causal trunks stream."""
    if not causal:
        raise ValueError(
            f"{type(module).__name__} is not causal: it looks at future frames, so it cannot separate a live "
            "stream; build the model with causal=True (DPRNNDeepMask, ConvTasNetDeepMask, or the dprnn and tcn "
            "trunks) and train it so to stream."
        )
