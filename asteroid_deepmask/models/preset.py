"""Presets: :class:`DeepMaskTasNet` with a fixed trunk and Asteroid-style flat keyword arguments."""
import inspect

from ..utils.checks import check_known_arguments
from ..masknn import TRUNKS, flat_head_args
from .deepmask_tasnet import SET_BY_MODEL, DeepMaskTasNet, filterbank_extras, named_params, part_arguments

_MODEL_PARAMS = inspect.signature(DeepMaskTasNet.__init__).parameters
#: Filterbank arguments of :class:`DeepMaskTasNet` and their defaults.
FILTERBANK_DEFAULTS = {name: p.default for name, p in _MODEL_PARAMS.items()
                       if name not in ("self", "n_src", "trunk", "trunk_args", "head", "head_args", "n_outputs")
                       and p.kind is p.POSITIONAL_OR_KEYWORD}
#: The flat head arguments of every preset and their defaults (the paper's baseline head).
HEAD_DEFAULTS = dict(n_outputs=None, mask_head="linear", head_hidden=64, shared_head=None, mask_act="relu")


class DeepMaskPreset(DeepMaskTasNet):
    """A :class:`DeepMaskTasNet` whose trunk is fixed and whose arguments are flat.

    Subclasses set ``trunk_name`` (a registered trunk) and ``defaults`` (flat defaults that differ
    from the general ones). Their arguments are ``n_src``; the head's ``n_outputs``,
    ``mask_head``, ``head_hidden``, ``shared_head``, ``mask_act``; the trunk's own arguments;
    and the filterbank's. ``inspect.signature`` (and ``help``) shows them all with their defaults.
    :meth:`get_model_args` gives them back flat, with every default filled in.
    """

    trunk_name = None
    defaults = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        flat = {**HEAD_DEFAULTS, **FILTERBANK_DEFAULTS, **cls.defaults}
        trunk = [p.replace(default=flat.pop(p.name, p.default), kind=p.KEYWORD_ONLY)
                 for p in named_params(TRUNKS.get(cls.trunk_name).__init__, SET_BY_MODEL)]
        params = [inspect.Parameter("n_src", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        params += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=flat[k]) for k in HEAD_DEFAULTS]
        params += trunk + [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=flat[k]) for k in FILTERBANK_DEFAULTS]
        cls.__signature__ = inspect.Signature(params + [inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)])

    def __init__(self, n_src, **kwargs):
        args = {**HEAD_DEFAULTS, **FILTERBANK_DEFAULTS, **self.defaults, **kwargs}
        fb_names = set(FILTERBANK_DEFAULTS) | filterbank_extras(args["fb_name"])
        trunk_names = part_arguments(TRUNKS.get(self.trunk_name))
        if trunk_names is not None:
            check_known_arguments(type(self).__name__, kwargs, [*HEAD_DEFAULTS, *fb_names, *trunk_names])
        if not (args["shared_head"] is None or isinstance(args["shared_head"], bool)):
            raise ValueError(f"shared_head must be None, True or False, got shared_head={args['shared_head']!r}.")
        head = {k: args.pop(k) for k in HEAD_DEFAULTS}
        fb_args = {k: args.pop(k) for k in list(args) if k in fb_names}
        name, head_args = flat_head_args(head["mask_head"], head["mask_act"], head["head_hidden"], head["shared_head"])
        super().__init__(n_src, trunk=self.trunk_name, trunk_args=args, head=name, head_args=head_args,
                         n_outputs=head["n_outputs"], **fb_args)
        general = DeepMaskTasNet.get_model_args(self)
        head["n_outputs"] = general["n_outputs"]
        self._set_model_args({"n_src": n_src, **head, **general["trunk_args"], **fb_args})
