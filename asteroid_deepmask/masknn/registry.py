"""Name -> class registries for the parts of a masker (trunks and mask heads)."""
import functools
import inspect


class Registry:
    """Classes of one kind of part, by name, checked when they are registered.

    Args:
        kind (str): what the classes are (``"trunk"``, ``"head"``), for messages.
        base (type): the class every registered class must subclass.
        required_args (tuple): arguments every registered ``__init__`` must take.
        how (str): how a user registers one, for messages.
    """

    def __init__(self, kind, base, required_args, how):
        self.kind, self.base, self.required_args, self.how = kind, base, tuple(required_args), how
        self._classes = {}

    def register(self, name, cls=None):
        """Register ``cls`` under ``name``; usable as ``@register(name)``. Returns ``cls``.

        Registering the same class again (a module imported twice) is harmless; another class
        under a taken name is refused.
        """
        if cls is None:
            return functools.partial(self.register, name)
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise TypeError(f"A {self.kind} must subclass {self.base.__module__}.{self.base.__name__}; got {cls!r}.")
        if inspect.isabstract(cls):
            raise TypeError(f"{cls.__name__} does not implement {sorted(cls.__abstractmethods__)}; it cannot be a {self.kind}.")
        params = inspect.signature(cls.__init__).parameters
        missing = [p for p in self.required_args if p not in params]
        if missing:
            raise TypeError(f"{cls.__name__}.__init__ must take {missing}: models build every {self.kind} with them.")
        existing = self._classes.get(name)
        if existing is not None and (existing.__module__, existing.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ValueError(
                f"A {self.kind} named {name!r} is already registered ({existing.__module__}.{existing.__qualname__})."
            )
        self._classes[name] = cls
        return cls

    def get(self, name):
        """The class registered under ``name``."""
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
        """Whether the ``__init__`` of ``name``'s class takes ``arg`` by name."""
        return arg in inspect.signature(self.get(name).__init__).parameters
