"""What a public module says about a Keras name fastdnn lacks, and what its dir() lists.

Each public module ends with

    from fastdnn import _missing  # noqa: E402
    __getattr__, __dir__ = _missing.hooks(globals(), hidden={...internal helpers...})

so that `fastdnn.layers.Conv2D` and `from fastdnn.layers import Conv2D` both say
"fastdnn does not have keras.layers.Conv2D (yet)", with the nearest names it
does have and a pointer to the README's list, and dir() shows the public names
only (no imported modules, private helpers or names from other packages).

Attribute access raises MissingAttributeError (an AttributeError, so hasattr()
and getattr(m, name, default) behave). An import statement would swallow an
AttributeError into its own generic ImportError ("cannot import name"), so when
the lookup comes from a `from m import name` statement, MissingImportError (an
ImportError that is not an AttributeError) is raised instead, with the same text.
"""

import opcode
import sys
import types

README = 'the list under "What is supported" in fastdnn\'s README.md'

# The modules that are part of fastdnn's API (Keras' modules), the only module objects dir() lists.
PUBLIC_MODULES = frozenset(
    "fastdnn." + name for name in (
        "activations", "backend", "callbacks", "constraints", "datasets", "datasets.california_housing", "distribute",
        "datasets.fashion_mnist",
        "datasets.mnist", "initializers", "layers", "losses", "metrics", "models", "ops", "optimizers",
        "optimizers.schedules", "regularizers", "saving", "utils", "wrappers"))

_IMPORT_FROM = opcode.opmap["IMPORT_FROM"]
_EXTENDED_ARG = opcode.opmap["EXTENDED_ARG"]


class MissingAttributeError(AttributeError):
    """A Keras name fastdnn does not have, looked up as an attribute."""


class MissingImportError(ImportError):
    """A Keras name fastdnn does not have, named in a `from ... import` statement."""


def keras_name(module_name):
    """fastdnn.layers -> keras.layers"""
    return "keras" + module_name[len("fastdnn"):]


def message(module_name, name, candidates, note=None):
    keras_module = keras_name(module_name)
    text = f"fastdnn does not have {keras_module}.{name} (yet)"
    if note:
        text += f": {note}"
    near = nearest(name, candidates)
    if near:
        text += f"; nearest supported names: {', '.join(f'{keras_module}.{n}' for n in near)}"
    return f"{text}. See {README} for everything fastdnn has."


def nearest(name, candidates, n=3):
    """The supported names closest to `name` (difflib), ignoring case first: conv2d finds Conv2D."""
    import difflib  # only when a name is missing: import fastdnn stays quick

    by_lower = {}
    for c in candidates:
        by_lower.setdefault(c.lower(), c)
    near = [by_lower[c] for c in difflib.get_close_matches(name.lower(), list(by_lower), n=n, cutoff=0.6)]
    for c in difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.6):
        if c not in near:
            near.append(c)
    return near[:n]


def _from_import_statement(name):
    """True when the Python frame asking for `name` is executing `from m import name`."""
    frame = sys._getframe(1)
    while frame is not None and (frame.f_code.co_filename == __file__ or frame.f_code.co_name == "__getattr__"):
        frame = frame.f_back
    if frame is None or frame.f_lasti < 0:
        return False
    code, i = frame.f_code, frame.f_lasti
    raw = code.co_code
    if i + 1 >= len(raw) or raw[i] != _IMPORT_FROM:
        return False
    index, shift, j = raw[i + 1], 8, i - 2
    while j >= 0 and raw[j] == _EXTENDED_ARG:  # more than 256 names in the code object
        index |= raw[j + 1] << shift
        shift, j = shift + 8, j - 2
    return index < len(code.co_names) and code.co_names[index] == name


def error(module_name, name, candidates, note=None):
    """The exception for a missing public name: an ImportError for an import statement,
    otherwise an AttributeError; a private or dunder name gets Python's usual AttributeError."""
    if name.startswith("_"):
        return AttributeError(f"module {module_name!r} has no attribute {name!r}")
    cls = MissingImportError if _from_import_statement(name) else MissingAttributeError
    if cls is MissingImportError:
        return cls(message(module_name, name, candidates, note), name=module_name)
    return cls(message(module_name, name, candidates, note))


def public_names(module_globals, hidden=(), lazy=()):
    """The names dir() shows: no private names, no module objects but the module's own public submodules,
    no functions or classes imported from other packages, none of `hidden` (internal helpers
    shared inside fastdnn); plus `lazy` names the module loads on first use."""
    names = set(lazy)
    for key, value in module_globals.items():
        if key.startswith("_") or key in hidden:
            continue
        if isinstance(value, types.ModuleType):
            if value.__name__ in PUBLIC_MODULES and value.__name__ == f"{module_globals['__name__']}.{key}":
                names.add(key)
            continue
        origin = getattr(value, "__module__", None) if callable(value) else None
        if origin is not None and not str(origin).startswith("fastdnn"):
            continue
        names.add(key)
    return sorted(names)


def hooks(module_globals, hidden=(), lazy=(), note=None):
    """(__getattr__, __dir__) for a public module: dir() lists public_names plus the usual dunders;
    a missing name raises error(), with `note` added to the message."""
    module_name = module_globals["__name__"]
    hidden = frozenset(hidden)

    def __dir__():
        dunders = [k for k in module_globals if k.startswith("__") and k.endswith("__")
                   and k not in ("__builtins__", "__getattr__", "__dir__")]
        return sorted(dunders + public_names(module_globals, hidden, lazy))

    def __getattr__(name):
        raise error(module_name, name, public_names(module_globals, hidden, lazy), note)

    return __getattr__, __dir__
