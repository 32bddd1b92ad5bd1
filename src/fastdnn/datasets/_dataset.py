"""Load a data set from the first source that has it, check it, cache it.

Every source's arrays are checked against the data set's SHA-256 digests
before they are returned or cached, so a wrong, corrupt or half-downloaded
file is rejected wherever it came from. The cache is one uncompressed .npz
(Keras' mnist.npz layout), written atomically, that loads in a fraction of a
second.
"""

import hashlib
import os
import sys
from dataclasses import dataclass

import numpy as np

from fastdnn._atomic import atomic_write
from fastdnn.datasets._sources import IDX_NAMES, KEYS, IdxDirectory, NpzFile, SourceUnavailable


@dataclass(frozen=True)
class Dataset:
    name: str
    shapes: dict  # key -> expected shape; every array is uint8
    digests: dict  # key -> hashlib.sha256(array.tobytes()).hexdigest()


class DatasetUnavailableError(OSError):
    """No source had the data set; the message lists each one and why."""


def datasets_folder():
    """$FASTDNN_HOME/datasets, or ~/.fastdnn/datasets."""
    home = os.environ.get("FASTDNN_HOME") or os.path.join(os.path.expanduser("~"), ".fastdnn")
    return os.path.join(home, "datasets")


def keras_datasets_folder():
    """Where Keras caches its downloads: files found there are used (and checked) too."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "datasets")


def check(dataset, arrays):
    """Raise ValueError unless `arrays` are exactly the data set."""
    for key in KEYS:
        array = arrays[key]
        if array.dtype != np.uint8 or array.shape != dataset.shapes[key]:
            raise ValueError(f"{key} is {array.dtype} {array.shape}, expected uint8 {dataset.shapes[key]}")
        if hashlib.sha256(np.ascontiguousarray(array).data).hexdigest() != dataset.digests[key]:
            raise ValueError(f"{key} does not match its SHA-256 digest: corrupt or not {dataset.name}")


def _report(message):
    print(f"fastdnn.datasets: {message}", file=sys.stderr)


def load_first(name, sources, cache, check, cache_path, npz_arrays):
    """(data, failures): the data of the first of `sources` that loads and passes `check`, or None
    with every source's failure. What did not come from `cache` is reported on stderr and cached
    in `cache_path` (an .npz of npz_arrays(data), written atomically)."""
    failures = []
    for source in sources:
        try:
            data = source.load()
            check(data)
        except SourceUnavailable as reason:
            failures.append(f"{source.description}: {reason}")
            if source is not cache:  # an empty cache is the normal first run, not news
                _report(f"{name} not found in {failures[-1]}")
            continue
        except Exception as error:  # a broken source is reported, and the next one tried
            failures.append(f"{source.description}: {type(error).__name__}: {error}")
            _report(f"{name} rejected from {failures[-1]}")
            continue
        if source is not cache:
            _report(f"{name} loaded from {source.description} and checked")
            try:
                with atomic_write(cache_path) as f:
                    np.savez(f, **npz_arrays(data))
                _report(f"{name} cached in {cache_path}")
            except OSError as error:  # a read-only home still gets its data, only slower next time
                _report(f"{name} could not be cached in {cache_path}: {error}")
        return data, failures
    return None, failures


def load(dataset, path=None, other_sources=()):
    """((x_train, y_train), (x_test, y_test)) from the first source that has
    them: `path` if given (a .npz or a folder of IDX files), the cache, IDX
    files placed by hand in the cache folder, then `other_sources` in order."""
    cache_path = os.path.join(datasets_folder(), dataset.name + ".npz")
    by_hand = os.path.join(datasets_folder(), dataset.name)
    cache = NpzFile(cache_path, "cache")
    sources = [cache, IdxDirectory(by_hand, "folder")] + list(other_sources)
    if path is not None:
        path = os.fspath(path)
        sources.insert(0, IdxDirectory(path, "path=") if os.path.isdir(path) else NpzFile(path, "path="))
    arrays, failures = load_first(dataset.name, sources, cache, lambda a: check(dataset, a), cache_path,
                                  lambda a: {key: a[key] for key in KEYS})
    if arrays is not None:
        return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
    raise DatasetUnavailableError(
        f"{dataset.name} could not be loaded from any source:\n  " + "\n  ".join(failures) +
        f"\nTo place it by hand, put the four IDX files ({', '.join(n + '.gz' for n in IDX_NAMES)}) "
        f"in {by_hand}, or pass load_data(path=...) a folder holding them or a Keras-style .npz "
        f"({', '.join(KEYS)}, uint8).")
