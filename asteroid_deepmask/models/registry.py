"""The package's model classes by name, mirrored into ``asteroid.models`` so Asteroid finds them."""
import importlib

import asteroid.models

_MODELS = {}


def register_model(cls):
    """Register ``cls`` under its class name here and in ``asteroid.models``.

    Safe to call again for the same class (a second import, or a reload of the module that
    defines it); raises a ValueError if another class already owns the name in Asteroid.
    Returns ``cls`` so it can be used as a class decorator.
    """
    name = cls.__name__
    try:
        existing = asteroid.models.get(name)
    except ValueError:
        existing = None
    same_definition = existing is not None and (
        (existing.__module__, existing.__qualname__) == (cls.__module__, cls.__qualname__)
    )
    if existing is not None and not same_definition:
        raise ValueError(
            f"asteroid.models already has a model named {name!r} ({existing.__module__}); "
            "rename the class to register it."
        )
    if existing is None:
        asteroid.models.register_model(cls)
    elif existing is not cls:
        # A reloaded module defines a new class object: point Asteroid at the live one.
        setattr(asteroid.models, name, cls)
    _MODELS[name] = cls
    return cls


def get_model_class(name):
    """Model class of this package registered under ``name``."""
    if name not in _MODELS:
        raise ValueError(f"Unknown model {name!r}; this package provides {sorted(_MODELS)}.")
    return _MODELS[name]


def build_model(model_conf):
    """Instantiate the model described by an experiment file's ``model`` section.

    ``model_conf["name"]`` is the class name; ``model_conf["imports"]`` (optional) lists modules
    to import first, such as the module of a trunk or head you registered; the other keys are
    the class's arguments.

    Example:
        >>> build_model({"name": "DPRNNDeepMask", "n_src": 2, "n_repeats": 1}).masker.n_outputs
        2
    """
    kwargs = dict(model_conf)
    for module in kwargs.pop("imports", None) or ():
        importlib.import_module(module)
    if "name" not in kwargs:
        raise ValueError(f"The model section needs a 'name' key, one of {sorted(_MODELS)}.")
    return get_model_class(kwargs.pop("name"))(**kwargs)
