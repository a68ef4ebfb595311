"""Name -> class registries for the parts of a masker (trunks and mask heads).

Besides recording a part's arguments (:class:`~.recorded_config.RecordsConfig`), a registry is the
one place that reads a part's ``__init__`` signature: to check a class when it is registered, and
to name the arguments a model may pass it (``trunk_args``, ``head_args``).
"""
import functools
import inspect

from ..utils.checks import check_known_arguments


class Registry:
    """Classes of one kind of part, by name, checked when they are registered.

    Args:
        kind (str): what the classes are (``"trunk"``, ``"head"``), for messages.
        base (type): the class every registered class must subclass.
        required_args (tuple): arguments every registered ``__init__`` must take.
        how (str): how a user registers one, for messages.
        model_args (tuple, optional): the arguments the model sets, never the user's ``*_args``
            (``required_args`` and any optional ones the model passes when a class takes them).
            Defaults to ``required_args``.
    """

    def __init__(self, kind, base, required_args, how, model_args=None):
        self.kind, self.base, self.required_args, self.how = kind, base, tuple(required_args), how
        self.model_args = self.required_args if model_args is None else tuple(model_args)
        self._classes = {}

    def check_class(self, cls):
        """Raise a TypeError unless ``cls`` subclasses the base, implements it and takes ``required_args``."""
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise TypeError(f"A {self.kind} must subclass {self.base.__module__}.{self.base.__name__}; got {cls!r}.")
        if inspect.isabstract(cls):
            raise TypeError(f"{cls.__name__} does not implement {sorted(cls.__abstractmethods__)}; it cannot be a {self.kind}.")
        params = inspect.signature(cls.__init__).parameters
        missing = [p for p in self.required_args if p not in params]
        if missing:
            raise TypeError(f"{cls.__name__}.__init__ must take {missing}: models build every {self.kind} with them.")

    def register(self, name, cls=None):
        """Register ``cls`` under ``name``; usable as ``@register(name)``. Returns ``cls``.

        Registering the same class again (a module imported twice) is harmless; another class
        under a taken name is refused.
        """
        if cls is None:
            return functools.partial(self.register, name)
        self.check_class(cls)
        existing = self._classes.get(name)
        if existing is not None and (existing.__module__, existing.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ValueError(
                f"A {self.kind} named {name!r} is already registered ({existing.__module__}.{existing.__qualname__})."
            )
        self._classes[name] = cls
        return cls

    def get(self, name):
        """The class registered under ``name`` (a class is returned as it is)."""
        if isinstance(name, type):
            return name
        if name not in self._classes:
            raise ValueError(f"Unknown {self.kind}={name!r}; registered: {sorted(self._classes)} ({self.how}).")
        return self._classes[name]

    def name_of(self, part):
        """The name under which ``part``'s class is registered."""
        for name, cls in self._classes.items():
            if type(part) is cls:
                return name
        raise ValueError(f"{type(part).__name__} is not a registered {self.kind}; {self.how}.")

    def names(self):
        return sorted(self._classes)

    def accepts(self, name, arg):
        """Whether the ``__init__`` of ``name``'s class (or of a class ``name``) takes ``arg`` by name."""
        return arg in inspect.signature(self.get(name).__init__).parameters

    def check_arguments(self, name, args):
        """Raise a ValueError naming an argument of ``args`` (the user's ``{kind}_args`` for ``name``,
        a registered name or a class) that the model sets, that the class does not take (with the closest name it takes), or a
        non-boolean value for an argument whose default is a boolean.

        A class whose ``__init__`` takes ``**kwargs`` is given any name.
        """
        clashes = sorted(set(self.model_args) & set(args))
        if clashes:
            raise ValueError(f"{self.kind}_args must not set {clashes}: the model sets them.")
        params = inspect.signature(self.get(name).__init__).parameters
        own = {n: p.default for n, p in params.items()
               if n != "self" and n not in self.model_args and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            label = name.__name__ if isinstance(name, type) else repr(name)
            check_known_arguments(f"The {self.kind} {label} ({self.kind}_args)", args, own)
        for arg, value in args.items():
            if isinstance(own.get(arg), bool) and not isinstance(value, bool):
                raise ValueError(f"{arg} must be True or False, got {arg}={value!r}.")
