"""IDX files, the format MNIST and Fashion-MNIST are published in.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number
of dimensions), the dimensions as big-endian uint32, then the data in C order,
big-endian. Files ending in .gz (or starting with gzip's magic bytes) are
decompressed on the fly.

    images = read_idx("train-images-idx3-ubyte.gz")   # uint8, (60000, 28, 28)
    write_idx("mine-idx3-ubyte.gz", images)
"""

import gzip
import io
import math
import os
import struct
import zlib

import numpy as np

from fastdnn._atomic import atomic_write

# IDX type code -> big-endian NumPy dtype.
_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(dtype).newbyteorder("="): code for code, dtype in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def decode_idx(stream, name="IDX data"):
    """Read one IDX array from a binary stream (already decompressed).

    The header is checked, and the declared size compared with what the stream
    holds, before the data is read: a malformed or truncated file raises
    ValueError naming `name` instead of returning a wrong array.
    """
    magic = stream.read(4)
    if len(magic) < 4 or magic[:2] != b"\0\0":
        raise ValueError(f"{name}: not an IDX file (the first two bytes must be zero, got {magic[:2]!r})")
    code, ndim = magic[2], magic[3]
    if code not in _DTYPES:
        raise ValueError(f"{name}: unknown IDX type code 0x{code:02X} (expected one of "
                         f"{', '.join(f'0x{c:02X}' for c in _DTYPES)})")
    if ndim == 0:
        raise ValueError(f"{name}: IDX header declares 0 dimensions")
    header = stream.read(4 * ndim)
    if len(header) < 4 * ndim:
        raise ValueError(f"{name}: truncated IDX header ({ndim} dimensions declared)")
    shape = struct.unpack(f">{ndim}I", header)
    dtype = np.dtype(_DTYPES[code])
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow on absurd headers
    data = _read_at_most(stream, expected + 1)  # one byte more than declared, to notice trailing data
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than its header declares"
        raise ValueError(f"{name}: IDX data {what}: header declares shape {shape} of {dtype.name} "
                         f"({expected} bytes), file holds {len(data) if len(data) <= expected else 'more'}")
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _read_at_most(stream, size, chunk=1 << 24):
    """Read up to `size` bytes in chunks, so an enormous declared size costs
    memory only for the bytes really there."""
    parts = []
    while size > 0:
        part = stream.read(min(size, chunk))
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def _decode_file(raw, name):
    """decode_idx on a seekable binary file, gzip-compressed or not."""
    compressed = raw.read(2) == _GZIP_MAGIC
    raw.seek(0)
    stream = gzip.GzipFile(fileobj=raw) if compressed else raw
    try:
        return decode_idx(stream, name)
    except (OSError, EOFError, zlib.error) as error:  # a corrupt or truncated gzip archive
        raise ValueError(f"{name}: corrupt gzip stream ({error})") from error


def read_idx(path):
    """Read an IDX file (plain or gzip-compressed) into a NumPy array."""
    path = os.fspath(path)
    with open(path, "rb") as raw:
        return _decode_file(raw, path)


def decode_idx_bytes(data, name="IDX data"):
    """read_idx for a whole file's bytes, gzip-compressed or not."""
    return _decode_file(io.BytesIO(data), name)


def encode_idx(array):
    """The bytes of an IDX file holding `array` (uncompressed)."""
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"write_idx: array dtype {array.dtype} has no IDX type; use uint8, int8, int16, "
                        "int32, float32 or float64")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"write_idx: array must have 1 to 255 dimensions, got {array.ndim}")
    if any(d > 0xFFFFFFFF for d in array.shape):
        raise ValueError(f"write_idx: dimension too large for IDX (shape {array.shape})")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=_DTYPES[code]).tobytes()


def write_idx(path, array):
    """Write `array` as an IDX file, gzip-compressed when `path` ends in .gz.

    The file is written to a temporary name and renamed, so an interrupted
    write never leaves a partial file.
    """
    data = encode_idx(array)
    with atomic_write(path) as f:
        if os.fspath(path).endswith(".gz"):
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as compressed:
                compressed.write(data)
        else:
            f.write(data)

