"""The parts of a masker (trunks and heads) record the arguments they were built with."""
import functools
import inspect


class RecordsConfig:
    """Records the arguments of a part's outermost ``__init__`` call, defaults included, so that
    :meth:`get_config` rebuilds the part through ``__init__`` with no code in the subclass.

    :class:`~.trunk.Trunk` and :class:`~.heads.MaskerHead` are built on it: a trunk or head of
    yours saves, loads and publishes like the built-in ones. The outermost call records, so a
    subclass that calls its parent's ``__init__`` with other values records its own arguments.

    Example:
        >>> import torch
        >>> class Gain(RecordsConfig, torch.nn.Module):
        ...     def __init__(self, chan, scale=2.0):
        ...         super().__init__()
        ...         self.scale = torch.nn.Parameter(torch.full((chan,), scale))
        >>> Gain(4).get_config()
        {'chan': 4, 'scale': 2.0}
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _recording(cls.__dict__["__init__"])

    def get_config(self):
        """The arguments this part was built with, defaults included (``**kwargs`` flattened in)."""
        return dict(self._recorded_config)


def _recording(init):
    """Wrap ``init`` so that the outermost call records its bound arguments."""
    signature = inspect.signature(init)

    @functools.wraps(init)
    def recording_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if type(self).__init__ is recording_init:  # a subclass's own __init__ records instead
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            config = {}
            for name, value in list(bound.arguments.items())[1:]:
                kind = signature.parameters[name].kind
                config.update(value if kind is inspect.Parameter.VAR_KEYWORD else {name: value})
            self._recorded_config = config

    return recording_init
