"""Writes small Parquet files byte by byte, in the layout Arrow's writer uses
for float64 columns (dictionary page of PLAIN doubles, v1 data pages of
RLE/bit-packed dictionary indices), written from the format specification so
the reader is not tested against itself. Keyword arguments let a test damage
exactly one field.

Thrift compact encoding: a struct is a dict {field id: (type, value)}.
"""

import struct

import numpy as np

I32, I64, BINARY, LIST, STRUCT = 5, 6, 8, 9, 12


def varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def zigzag(n):
    return varint((n << 1) ^ (n >> 63))


def encode_value(kind, value):
    if kind in (I32, I64):
        return zigzag(value)
    if kind == BINARY:
        return varint(len(value)) + value
    if kind == STRUCT:
        return encode_struct(value)
    if kind == LIST:
        element_kind, items = value
        head = bytes([(len(items) << 4) | element_kind]) if len(items) < 15 else \
            bytes([0xF0 | element_kind]) + varint(len(items))
        return head + b"".join(encode_value(element_kind, item) for item in items)
    raise ValueError(kind)


def encode_struct(fields):
    out, last = bytearray(), 0
    for field_id in sorted(fields):
        kind, value = fields[field_id]
        delta = field_id - last
        out += bytes([(delta << 4) | kind]) if 0 < delta < 16 else bytes([kind]) + zigzag(field_id)
        out += encode_value(kind, value)
        last = field_id
    return bytes(out + b"\x00")


def bit_packed(values, width):
    """One bit-packed run: header, then the values LSB first, padded to groups of 8."""
    groups = (len(values) + 7) // 8
    padded = np.zeros(groups * 8, dtype=np.int64)
    padded[:len(values)] = values
    bits = ((padded[:, None] >> np.arange(width)) & 1).astype(np.uint8).ravel()
    return varint(groups << 1 | 1) + np.packbits(bits, bitorder="little").tobytes()


def rle_run(value, count, width):
    return varint(count << 1) + int(value).to_bytes((width + 7) // 8, "little")


def page(page_type, body, header_field, header_struct, raw_size=None, compress=None):
    stored = compress(body) if compress else body
    header = {1: (I32, page_type), 2: (I32, len(body) if raw_size is None else raw_size),
              3: (I32, len(stored)), header_field: (STRUCT, header_struct)}
    return encode_struct(header) + stored


def column_chunk_bytes(values, optional=True, runs="packed", data_encoding=8, compress=None,
                       levels=None, raw_size=None):
    """Dictionary page + one data page for `values`; returns (bytes, dictionary offset within them)."""
    dictionary, indices = np.unique(values, return_inverse=True)
    dictionary_page = page(2, dictionary.astype("<f8").tobytes(), 7, {1: (I32, len(dictionary)), 2: (I32, 0)},
                           compress=compress)
    width = max(1, int(len(dictionary) - 1).bit_length())
    if runs == "packed":
        encoded = bit_packed(indices, width)
    else:  # one RLE run per index
        encoded = b"".join(rle_run(i, 1, width) for i in indices)
    body = bytes([width]) + encoded
    if optional:
        level_bytes = levels if levels is not None else rle_run(1, len(values), 1)
        body = struct.pack("<I", len(level_bytes)) + level_bytes + body
    data_header = {1: (I32, len(values)), 2: (I32, data_encoding), 3: (I32, 3), 4: (I32, 3)}
    data_page = page(0, body, 5, data_header, raw_size=raw_size, compress=compress)
    return dictionary_page + data_page, len(dictionary_page)


def parquet_file(columns, row_groups=1, optional=True, codec=0, compress=None, column_type=5,
                 num_rows=None, **chunk_options):
    """A Parquet file of float64 `columns` ({name: array}), split into `row_groups`."""
    names = list(columns)
    rows = len(columns[names[0]])
    out = bytearray(b"PAR1")
    groups = []
    for rows_in_group in np.array_split(np.arange(rows), row_groups):
        chunks = []
        for name in names:
            data, dictionary_size = column_chunk_bytes(columns[name][rows_in_group], optional=optional,
                                                       compress=compress, **chunk_options)
            start = len(out)
            out += data
            meta = {1: (I32, column_type), 2: (LIST, (I32, [2, 0, 3])), 3: (LIST, (BINARY, [name.encode()])),
                    4: (I32, codec), 5: (I64, len(rows_in_group)), 6: (I64, len(data)), 7: (I64, len(data)),
                    9: (I64, start + dictionary_size), 11: (I64, start)}
            chunks.append({2: (I64, start), 3: (STRUCT, meta)})
        groups.append({1: (LIST, (STRUCT, chunks)), 2: (I64, 0), 3: (I64, len(rows_in_group))})
    schema = [{4: (BINARY, b"schema"), 5: (I32, len(names))}]
    schema += [{1: (I32, column_type), 3: (I32, 1 if optional else 0), 4: (BINARY, n.encode())} for n in names]
    footer = encode_struct({1: (I32, 1), 2: (LIST, (STRUCT, schema)), 3: (I64, rows if num_rows is None else num_rows),
                            4: (LIST, (STRUCT, groups)), 6: (BINARY, b"fastdnn tests")})
    return bytes(out + footer + struct.pack("<I", len(footer)) + b"PAR1")
