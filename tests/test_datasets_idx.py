"""The IDX reader and writer: round trips, and clear errors for malformed files."""

import gzip
import os
import struct

import numpy as np
import pytest

from fastdnn.datasets import read_idx, write_idx
from fastdnn.datasets.idx import decode_idx_bytes


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_write_then_read_gives_the_same_array(tmp_path, dtype, suffix):
    array = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, array)


def test_idx_bytes_follow_the_published_layout(tmp_path):
    # MNIST's label file: magic 0x00000801, count, then one byte per label.
    write_idx(tmp_path / "labels", np.array([7, 2, 1], dtype=np.uint8))
    assert (tmp_path / "labels").read_bytes() == b"\x00\x00\x08\x01" + struct.pack(">I", 3) + bytes([7, 2, 1])


def test_multibyte_values_are_stored_big_endian(tmp_path):
    write_idx(tmp_path / "x", np.array([1], dtype=np.int32))
    assert (tmp_path / "x").read_bytes()[-4:] == b"\x00\x00\x00\x01"


def test_gzip_files_are_recognised_by_content_not_name(tmp_path):
    write_idx(tmp_path / "x.gz", np.arange(5, dtype=np.uint8))
    os.rename(tmp_path / "x.gz", tmp_path / "renamed")
    np.testing.assert_array_equal(read_idx(tmp_path / "renamed"), np.arange(5))


def test_write_leaves_no_temporary_file(tmp_path):
    write_idx(tmp_path / "x.gz", np.zeros((3, 2), np.uint8))
    assert sorted(os.listdir(tmp_path)) == ["x.gz"]


def _header(code=0x08, dims=(3,)):
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


@pytest.mark.parametrize("data, message", [
    (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\0", "not an IDX file"),
    (_header(code=0x07) + b"\0\0\0", "unknown IDX type code 0x07"),
    (b"\0\0\x08\x00", "0 dimensions"),
    (b"\0\0\x08\x02\0\0\0\x03", "truncated IDX header"),
    (_header(dims=(3,)) + b"\1\2", "truncated"),
    (_header(dims=(3,)) + b"\1\2\3\4", "longer than its header declares"),
    (b"\0\0", "not an IDX file"),
])
def test_malformed_headers_and_sizes_raise_value_error(tmp_path, data, message):
    path = tmp_path / "bad"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message):
        read_idx(path)


def test_an_enormous_declared_size_is_refused_without_allocating_it(tmp_path):
    path = tmp_path / "huge"
    path.write_bytes(_header(dims=(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFF)) + b"\0" * 10)
    with pytest.raises(ValueError, match="truncated"):
        read_idx(path)


def test_a_truncated_gzip_stream_raises_value_error(tmp_path):
    whole = gzip.compress(_header(dims=(1000,)) + bytes(1000))
    path = tmp_path / "cut.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match="cut.gz"):
        read_idx(path)


def test_a_corrupt_gzip_stream_raises_value_error():
    whole = bytearray(gzip.compress(_header(dims=(1000,)) + bytes(range(256)) * 4)[:-8] + b"\0" * 8)
    whole[20] ^= 0xFF
    with pytest.raises(ValueError, match="labels"):
        decode_idx_bytes(bytes(whole), name="labels")


def test_writing_an_object_array_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="dtype object"):
        write_idx(tmp_path / "x", np.array([None, 1], dtype=object))


def test_writing_a_scalar_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "x", np.uint8(3))
