"""fastdnn.datasets.parquet on small files written byte by byte (tests/parquet_bytes.py):
what Arrow writes for float64 columns is read exactly; anything damaged,
truncated, hostile or merely unexpected is refused with ValueError."""

import struct
import sys

import brotli
import numpy as np
import pytest

from fastdnn.datasets import _brotli, parquet
from parquet_bytes import BINARY, I32, I64, LIST, STRUCT, encode_struct, parquet_file, rle_run

RNG = np.random.default_rng(7)
COLUMNS = {"MedInc": np.round(RNG.uniform(0, 15, 50), 4), "Count": RNG.integers(0, 5, 50).astype(float),
           "Tiny": np.full(50, -1.5)}


def read(data, **kwargs):
    return parquet.read_double_columns(data, **kwargs)


def assert_columns(result, expected=COLUMNS):
    assert list(result) == list(expected)
    for name, values in expected.items():
        assert result[name].dtype == np.float64
        np.testing.assert_array_equal(result[name], values)


# --- what is read ---------------------------------------------------------------------------

def test_optional_columns_with_bit_packed_indices_are_read_exactly():
    assert_columns(read(parquet_file(COLUMNS)))


def test_required_columns_without_definition_levels_are_read_exactly():
    assert_columns(read(parquet_file(COLUMNS, optional=False)))


def test_indices_in_rle_runs_are_read_exactly():
    assert_columns(read(parquet_file(COLUMNS, runs="rle")))


def test_several_row_groups_are_concatenated_in_order():
    assert_columns(read(parquet_file(COLUMNS, row_groups=3)))


def test_brotli_compressed_pages_are_read_exactly():
    assert_columns(read(parquet_file(COLUMNS, codec=parquet.BROTLI, compress=brotli.compress)))


def test_an_empty_table_gives_empty_float64_columns():
    result = read(parquet_file({"a": np.empty(0)}))
    assert result["a"].dtype == np.float64 and result["a"].shape == (0,)


def test_without_the_brotli_package_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "brotli", None)
    with pytest.raises(_brotli.BrotliMissingError, match=r'pip install "fastdnn\[california\]"'):
        read(parquet_file(COLUMNS, codec=parquet.BROTLI, compress=brotli.compress))


def test_hybrid_decoder_reads_runs_and_packed_groups_mixed():
    from fastdnn.datasets._thrift_compact import Reader
    from parquet_bytes import bit_packed
    encoded = rle_run(5, 3, 3) + bit_packed(np.array([1, 2, 3, 4, 5, 6, 7, 0]), 3) + rle_run(2, 2, 3)
    assert parquet.decode_hybrid(Reader(encoded), 3, 13).tolist() == [5, 5, 5, 1, 2, 3, 4, 5, 6, 7, 0, 2, 2]


# --- what is refused --------------------------------------------------------------------------

GOOD = parquet_file(COLUMNS)


@pytest.mark.parametrize("data, message", [
    (b"", "PAR1"),
    (b"PAR1" + b"\x00" * 20, "PAR1"),
    (GOOD[:-1], "PAR1"),
    (GOOD[:-8] + struct.pack("<I", len(GOOD)) + b"PAR1", "footer of"),
], ids=["empty", "no-end-magic", "truncated-end", "footer-longer-than-file"])
def test_files_that_are_not_whole_parquet_files_are_refused(data, message):
    with pytest.raises(ValueError, match=message):
        read(data)


def test_every_truncation_of_a_valid_file_is_refused_with_value_error():
    for cut in range(0, len(GOOD), 7):
        with pytest.raises(ValueError):
            read(GOOD[:cut] + GOOD[-8:] if cut > 12 else GOOD[:cut])


def test_random_byte_damage_gives_value_error_or_arrays_never_another_exception():
    rng = np.random.default_rng(1)
    for _ in range(300):
        damaged = bytearray(GOOD)
        for position in rng.integers(4, len(GOOD) - 4, 3):
            damaged[position] = rng.integers(0, 256)
        try:
            result = read(bytes(damaged))
        except ValueError:
            continue
        assert all(column.shape == (50,) for column in result.values())


def test_more_rows_than_max_rows_is_refused_before_reading():
    with pytest.raises(ValueError, match="implausible row count"):
        read(parquet_file(COLUMNS), max_rows=49)


def test_a_row_count_disagreeing_with_the_columns_is_refused():
    with pytest.raises(ValueError, match="values in a row group|the file 51 rows"):
        read(parquet_file(COLUMNS, num_rows=51))


def test_a_column_that_is_not_double_is_refused():
    with pytest.raises(ValueError, match="not a plain DOUBLE column"):
        read(parquet_file(COLUMNS, column_type=4))  # FLOAT


def test_an_unsupported_codec_is_refused():
    with pytest.raises(ValueError, match="compression codec 1"):
        read(parquet_file(COLUMNS, codec=1))  # SNAPPY


def test_plain_encoded_data_pages_are_refused():
    with pytest.raises(ValueError, match="encoding 0 is not dictionary"):
        read(parquet_file(COLUMNS, data_encoding=0))


def test_nulls_are_refused():
    with pytest.raises(ValueError, match="has nulls"):
        read(parquet_file(COLUMNS, levels=rle_run(1, 49, 1) + rle_run(0, 1, 1)))


def test_a_page_whose_size_disagrees_with_its_header_is_refused():
    with pytest.raises(ValueError, match="its header says"):
        read(parquet_file(COLUMNS, raw_size=10))


def test_an_oversized_page_is_refused_before_decompression():
    with pytest.raises(ValueError, match="page of"):
        read(parquet_file(COLUMNS, raw_size=parquet.MAX_PAGE_BYTES + 1))


def test_a_brotli_bomb_is_cut_short_and_refused():
    bomb = brotli.compress(b"\x00" * (32 << 20))
    with pytest.raises(ValueError, match="does not decompress to the 100 bytes"):
        _brotli.decompress(bomb, 100)


def test_corrupt_brotli_data_is_refused_with_value_error():
    with pytest.raises(ValueError, match="brotli"):
        _brotli.decompress(b"\xff\xff\xff\xff not brotli", 10)


def test_dictionary_indices_past_the_dictionary_are_refused():
    good = parquet_file({"a": np.array([1.0, 2.0, 3.0])}, optional=False)
    # The page ends with one bit-packed group of 2-bit indices (2 bytes): all ones in its first byte
    # make rows 0-2 point at entry 3 of a 3-entry dictionary.
    footer_length = int.from_bytes(good[-8:-4], "little")
    at = len(good) - 8 - footer_length - 2
    damaged = good[:at] + bytes([0xFF]) + good[at + 1:]
    with pytest.raises(ValueError, match="dictionary index out of range"):
        read(damaged)


def hostile_footer(footer_fields):
    footer = encode_struct(footer_fields)
    return b"PAR1" + footer + struct.pack("<I", len(footer)) + b"PAR1"


def test_a_thrift_list_claiming_more_elements_than_bytes_is_refused():
    footer = encode_struct({1: (I32, 1)})[:-1] + bytes([0x19, 0xF5]) + b"\xff\xff\xff\xff\x07"  # list<i32> of 2^31
    data = b"PAR1" + footer + struct.pack("<I", len(footer)) + b"PAR1"
    with pytest.raises(ValueError, match="list of"):
        read(data)


def test_deeply_nested_thrift_structs_are_refused():
    nested = {1: (I32, 0)}
    for _ in range(40):
        nested = {1: (STRUCT, nested)}
    with pytest.raises(ValueError, match="nested too deeply"):
        read(hostile_footer(nested))


def test_a_nested_schema_is_refused():
    schema = [{4: (BINARY, b"schema"), 5: (I32, 1)}, {4: (BINARY, b"group"), 5: (I32, 1)},
              {1: (I32, 5), 3: (I32, 0), 4: (BINARY, b"leaf")}]
    with pytest.raises(ValueError, match="only flat schemas"):
        read(hostile_footer({2: (LIST, (STRUCT, schema)), 3: (I64, 0)}))


def test_a_column_chunk_pointing_outside_the_file_is_refused():
    meta = {1: (I32, 5), 3: (LIST, (BINARY, [b"a"])), 4: (I32, 0), 5: (I64, 1), 7: (I64, 1 << 40), 9: (I64, 4)}
    schema = [{4: (BINARY, b"schema"), 5: (I32, 1)}, {1: (I32, 5), 3: (I32, 0), 4: (BINARY, b"a")}]
    group = {1: (LIST, (STRUCT, [{3: (STRUCT, meta)}])), 3: (I64, 1)}
    with pytest.raises(ValueError, match="chunk bytes outside the file"):
        read(hostile_footer({2: (LIST, (STRUCT, schema)), 3: (I64, 1), 4: (LIST, (STRUCT, [group]))}))
