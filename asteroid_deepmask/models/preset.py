"""What the presets share: a :class:`DeepMaskTasNet` with a fixed trunk and flat arguments."""
from ..masknn import flat_head_args
from ..utils.checks import check_known_arguments
from .deepmask_tasnet import DeepMaskTasNet, filterbank_extras


class DeepMaskPreset(DeepMaskTasNet):
    """A :class:`DeepMaskTasNet` whose trunk is fixed and whose arguments are flat.

    Each preset writes its arguments out in its own ``__init__`` (so ``help``, editors and type
    checkers show them with their defaults): ``n_src``, the flat head arguments, the trunk's,
    the filterbank's, then ``**fb_kwargs``; it passes them on here by keyword. An argument a
    preset does not take lands in its ``**fb_kwargs`` and, unless the filterbank takes it, is
    refused with the closest name the preset takes. :meth:`get_model_args` gives the arguments
    back flat, every default filled in, so that ``type(model)(**model.get_model_args())``
    rebuilds the model.

    Args:
        n_src (int): number of sources C.
        trunk (str): the registered trunk.
        trunk_args (dict): every argument of the trunk but those the model sets.
        n_outputs, mask_head, head_hidden, shared_head, mask_act: the flat head arguments
            (:func:`~asteroid_deepmask.masknn.flat_head_args`), as in
            :class:`~asteroid_deepmask.DPRNNDeepMask`.
        fb_name, kernel_size, n_filters, stride, encoder_activation, sample_rate: the filterbank,
            as in :class:`DeepMaskTasNet`.
        fb_kwargs (dict): the preset's other keyword arguments: the filterbank's extra ones.
        mixture_consistency (str): None, ``"uniform"`` or ``"power"``, as in :class:`DeepMaskTasNet`.
    """

    def __init__(self, n_src, trunk, trunk_args, n_outputs, mask_head, head_hidden, shared_head, mask_act, fb_name,
                 kernel_size, n_filters, stride, encoder_activation, sample_rate, fb_kwargs,
                 mixture_consistency):
        head = dict(n_outputs=n_outputs, mask_head=mask_head, head_hidden=head_hidden, shared_head=shared_head,
                    mask_act=mask_act)
        filterbank = dict(fb_name=fb_name, kernel_size=kernel_size, n_filters=n_filters, stride=stride,
                          encoder_activation=encoder_activation, sample_rate=sample_rate)
        taken = filterbank_extras(fb_name) if fb_kwargs else set()
        if set(fb_kwargs) - taken:
            check_known_arguments(type(self).__name__, fb_kwargs, [*head, *trunk_args, *filterbank, *taken])
        if not (shared_head is None or isinstance(shared_head, bool)):
            raise ValueError(f"shared_head must be None, True or False, got shared_head={shared_head!r}.")
        name, head_args = flat_head_args(mask_head, mask_act, head_hidden, shared_head)
        super().__init__(n_src, trunk=trunk, trunk_args=trunk_args, head=name, head_args=head_args,
                         n_outputs=n_outputs, **filterbank, mixture_consistency=mixture_consistency,
                         **fb_kwargs)
        head["n_outputs"] = self.masker.n_outputs
        built = self.masker.trunk.get_config()  # what the trunk made of defaults such as norm_type=None
        self._set_model_args({"n_src": n_src, **head, **{k: built[k] for k in trunk_args}, **filterbank, **fb_kwargs,
                              **self.consistency_args()})
