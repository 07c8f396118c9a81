"""Reading the PPG-DaLiA and WESAD pickles without running code from them.

Unpickling calls whatever global a pickle names, so an untrusted ``.pkl`` can run any command. These files
only need numpy arrays inside plain containers, so :func:`load_data_pickle` resolves only numpy's array
reconstruction (under its numpy 1 and numpy 2 module paths), ``numpy.ndarray``, ``numpy.dtype``, numpy
scalars and a few plain builtins; any other global is refused with a :class:`DataError` before it is
called. The files were written by Python 2, so byte strings are decoded as latin-1.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from biowear.errors import DataError

_SAFE_BUILTINS = frozenset(
    {"dict", "list", "tuple", "set", "frozenset", "bytes", "bytearray", "str", "int", "float", "complex", "bool"}
)


def _numpy_globals() -> dict[tuple[str, str], object]:
    try:  # numpy >= 2
        from numpy._core import multiarray, numeric
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray, numeric  # type: ignore[no-redef]
    objects = {
        ("multiarray", "_reconstruct"): multiarray._reconstruct,
        ("multiarray", "scalar"): multiarray.scalar,
        ("numeric", "_frombuffer"): getattr(numeric, "_frombuffer", None),
    }
    out: dict[tuple[str, str], object] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    for (module, name), obj in objects.items():
        if obj is None:
            continue
        for package in ("numpy.core", "numpy._core"):
            out[(f"{package}.{module}", name)] = obj
    return out


class _DataUnpickler(pickle.Unpickler):
    """Resolves only the globals numpy arrays and plain containers need."""

    allowed = _numpy_globals()

    def __init__(self, file, source: str) -> None:  # type: ignore[no-untyped-def]
        super().__init__(file, encoding="latin1")
        self.source = source

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in self.allowed:
            return self.allowed[(module, name)]
        if module in ("builtins", "__builtin__") and name in _SAFE_BUILTINS:
            return super().find_class("builtins", name)
        if (module, name) in (("_codecs", "encode"), ("codecs", "encode")):  # bytes pickled by Python 3, protocol 2
            return super().find_class("_codecs", "encode")
        raise DataError(
            f"{self.source}: the pickle calls {module}.{name}, which biowear refuses to load (unpickling can "
            "run code); a data pickle may only hold numpy arrays, numpy dtypes/scalars and plain containers "
            "(dict, list, tuple, str, numbers)"
        )


def load_data_pickle(path: Path) -> object:
    """Unpickle a data file that holds only numpy arrays in plain containers (see the module docstring).

    Raises:
        DataError: the file does not exist, is not a pickle, or names any other global (e.g. ``os.system``).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"pickle file {path} does not exist")
    with path.open("rb") as fh:
        try:
            return _DataUnpickler(fh, str(path)).load()
        except DataError:
            raise
        except Exception as exc:  # UnpicklingError, EOFError, ValueError, ... for corrupt files
            raise DataError(f"{path}: cannot read as a pickle ({type(exc).__name__}: {exc})") from exc


def pickle_array(doc: object, keys: tuple[str, ...], source: str, ndim: tuple[int, ...] = (1, 2)) -> np.ndarray:
    """``doc[keys[0]][keys[1]]...`` as a numeric array.

    Raises:
        DataError: a key is missing (naming the path of keys and those present) or the value is not a numeric
            array of ``ndim`` dimensions.
    """
    value = doc
    for depth, key in enumerate(keys):
        where = "".join(f"[{k!r}]" for k in keys[:depth])
        if not isinstance(value, dict):
            raise DataError(f"{source}: data{where} must be a dict, got {type(value).__name__}")
        if key not in value:
            present = ", ".join(repr(k) for k in value) or "nothing"
            raise DataError(f"{source}: data{where} has no key {key!r} (it holds {present})")
        value = value[key]
    arr = np.asarray(value)
    path = "data" + "".join(f"[{k!r}]" for k in keys)
    if arr.dtype.kind not in "fiu" or arr.ndim not in ndim or arr.size == 0:
        raise DataError(f"{source}: {path} must be a non-empty numeric array, got dtype {arr.dtype} shape {arr.shape}")
    return arr.astype(np.float64)
