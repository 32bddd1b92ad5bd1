"""A small, strict reader of flat Parquet files of DOUBLE columns.

It reads what Arrow's writer produces for a table of float64 columns with
default options: one or more row groups, each column chunk a dictionary page
of PLAIN doubles followed by data pages (format v1) of dictionary indices in
the RLE/bit-packed hybrid encoding, optional definition levels (no nulls
allowed), UNCOMPRESSED or BROTLI pages. Anything else (other types, nested
schemas, nulls, PLAIN data pages, other codecs, encryption) is refused with
ValueError, as is any size or count that disagrees with the bytes present,
before an array of that size is allocated. Format: https://parquet.apache.org/docs/file-format/
"""

import numpy as np

from fastdnn.datasets._thrift_compact import Reader

MAGIC = b"PAR1"
DOUBLE = 5  # parquet Type
REQUIRED, OPTIONAL = 0, 1  # FieldRepetitionType
UNCOMPRESSED, BROTLI = 0, 4  # CompressionCodec
PLAIN, PLAIN_DICTIONARY, RLE, RLE_DICTIONARY = 0, 2, 3, 8  # Encoding
DATA_PAGE, DICTIONARY_PAGE = 0, 2  # PageType
MAX_PAGE_BYTES = 64 << 20


def read_double_columns(data, max_rows=1 << 22):
    """{column name: float64 array} of the Parquet file held in bytes `data`;
    a file that declares more than `max_rows` rows is refused unread."""
    data = bytes(data)
    if len(data) < 12 or data[:4] != MAGIC or data[-4:] != MAGIC:
        raise ValueError("parquet: no PAR1 magic at both ends: not a Parquet file, or truncated")
    footer_length = int.from_bytes(data[-8:-4], "little")
    if footer_length > len(data) - 12:
        raise ValueError(f"parquet: footer of {footer_length} bytes in a {len(data)}-byte file")
    footer_start = len(data) - 8 - footer_length
    meta = Reader(data, footer_start, len(data) - 8).structure()
    leaves, num_rows = _schema(meta), _typed(meta, 3, int, "row count")
    names = list(leaves)
    if not isinstance(num_rows, int) or not 0 <= num_rows <= max_rows:
        raise ValueError(f"parquet: implausible row count {num_rows!r}")
    parts = {name: [] for name in names}
    for group in _typed(meta, 4, list, "row groups") or []:
        group = _typed({0: group}, 0, dict, "row group")
        chunks = _typed(group, 1, list, "column chunks") or []
        if len(chunks) != len(names):
            raise ValueError(f"parquet: a row group has {len(chunks)} columns, the schema {len(names)}")
        for name, chunk in zip(names, chunks):
            parts[name].append(_column_chunk(data, footer_start, chunk, name, leaves[name],
                                               _typed(group, 3, int, "row group rows")))
    columns = {name: np.concatenate(p) if p else np.empty(0) for name, p in parts.items()}
    for name, column in columns.items():
        if len(column) != num_rows:
            raise ValueError(f"parquet: column {name} has {len(column)} values, the file {num_rows} rows")
    return columns


def _typed(fields, field_id, kind, what):
    """fields[field_id] if present, refusing a value of another thrift type."""
    value = fields.get(field_id)
    if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
        raise ValueError(f"parquet: malformed metadata: the {what} is a {type(value).__name__}")
    return value


def _schema(meta):
    """{leaf name: whether it is OPTIONAL} of a flat schema whose leaves are all DOUBLE."""
    schema = _typed(meta, 2, list, "schema")
    if not schema or not all(isinstance(element, dict) for element in schema):
        raise ValueError("parquet: the footer has no schema")
    root, elements = schema[0], schema[1:]
    if root.get(5) != len(elements):
        raise ValueError("parquet: only flat schemas (a root and its leaf columns) are read")
    leaves = {}
    for leaf in elements:
        name = (_typed(leaf, 4, bytes, "column name") or b"").decode("utf-8", "replace")
        if leaf.get(1) != DOUBLE or leaf.get(5) or leaf.get(3) not in (REQUIRED, OPTIONAL):
            raise ValueError(f"parquet: column {name!r} is not a plain DOUBLE column")
        if name in leaves:
            raise ValueError(f"parquet: duplicate column name {name!r}")
        leaves[name] = leaf.get(3) == OPTIONAL
    return leaves


def _column_chunk(data, footer_start, chunk, name, optional, group_rows):
    meta = chunk.get(3) if isinstance(chunk, dict) else None
    if not isinstance(meta, dict) or chunk.get(1):
        raise ValueError(f"parquet: column {name}: no inline metadata (external file?)")
    if meta.get(1) != DOUBLE or meta.get(3) != [name.encode()]:
        raise ValueError(f"parquet: column {name}: chunk metadata disagrees with the schema")
    codec, count = meta.get(4), meta.get(5)
    if codec not in (UNCOMPRESSED, BROTLI):
        raise ValueError(f"parquet: column {name}: compression codec {codec} is not read")
    if not isinstance(count, int) or count < 0 or count != group_rows:
        raise ValueError(f"parquet: column {name}: {count!r} values in a row group of {group_rows!r} rows")
    start = meta.get(11, meta.get(9))
    size = meta.get(7)
    if not (isinstance(start, int) and isinstance(size, int) and 4 <= start and 0 < size <= footer_start - start):
        raise ValueError(f"parquet: column {name}: chunk bytes outside the file")
    pages = Reader(data, start, start + size)
    dictionary = _dictionary_page(pages, codec, name)
    values, done = [], 0
    while done < count:
        indices = _data_page(pages, codec, name, optional, count - done)
        if indices.size and indices.max() >= len(dictionary):
            raise ValueError(f"parquet: column {name}: dictionary index out of range")
        values.append(dictionary[indices])
        done += indices.size
    return np.concatenate(values) if values else np.empty(0)


def _page(pages, codec, name, wanted_type):
    header = pages.structure()
    if header.get(1) != wanted_type:
        raise ValueError(f"parquet: column {name}: page type {header.get(1)}, expected {wanted_type}")
    raw_size, stored_size = header.get(2), header.get(3)
    if not (isinstance(raw_size, int) and 0 <= raw_size <= MAX_PAGE_BYTES):
        raise ValueError(f"parquet: column {name}: page of {raw_size!r} bytes")
    stored = pages.take(stored_size if isinstance(stored_size, int) else -1)
    if codec == UNCOMPRESSED:
        body = stored
    else:
        from fastdnn.datasets import _brotli
        body = _brotli.decompress(stored, raw_size)
    if len(body) != raw_size:
        raise ValueError(f"parquet: column {name}: page holds {len(body)} bytes, its header says {raw_size}")
    return header, body


def _dictionary_page(pages, codec, name):
    header, body = _page(pages, codec, name, DICTIONARY_PAGE)
    info = _typed(header, 7, dict, "dictionary page header") or {}
    count = info.get(1)
    if info.get(2) not in (PLAIN, PLAIN_DICTIONARY) or not isinstance(count, int) or count * 8 != len(body):
        raise ValueError(f"parquet: column {name}: dictionary page is not {count!r} PLAIN doubles")
    return np.frombuffer(body, dtype="<f8").astype(np.float64)


def _data_page(pages, codec, name, optional, at_most):
    header, body = _page(pages, codec, name, DATA_PAGE)
    info = _typed(header, 5, dict, "data page header") or {}
    count = info.get(1)
    if not isinstance(count, int) or not 0 < count <= at_most:
        raise ValueError(f"parquet: column {name}: data page of {count!r} values, at most {at_most} left")
    if info.get(2) not in (PLAIN_DICTIONARY, RLE_DICTIONARY):
        raise ValueError(f"parquet: column {name}: data page encoding {info.get(2)} is not dictionary")
    body = Reader(body)
    # Arrow marks float columns OPTIONAL: then length-prefixed definition levels come first, and must say "no nulls".
    if optional:
        if info.get(3) != RLE:
            raise ValueError(f"parquet: column {name}: definition levels not RLE encoded")
        levels = Reader(body.take(int.from_bytes(body.take(4), "little")))
        if not np.all(decode_hybrid(levels, 1, count) == 1):
            raise ValueError(f"parquet: column {name} has nulls")
    width = body.byte()
    if width > 32:
        raise ValueError(f"parquet: column {name}: index bit width {width}")
    return decode_hybrid(body, width, count)


def decode_hybrid(reader, bit_width, count):
    """`count` unsigned ints from Parquet's RLE/bit-packed hybrid encoding."""
    out = np.empty(count, dtype=np.int64)  # count is bounded by the caller (a page's value count)
    byte_width, filled = (bit_width + 7) // 8, 0
    while filled < count:
        header = reader.varint()
        if header & 1:  # bit-packed: (header >> 1) groups of 8 values, LSB first
            groups = header >> 1
            if groups == 0 or groups * 8 >= count - filled + 8:
                raise ValueError("parquet: bit-packed run longer than the values left")
            packed = np.frombuffer(reader.take(groups * bit_width), dtype=np.uint8)
            bits = np.unpackbits(packed, bitorder="little").reshape(-1, bit_width) if bit_width else \
                np.zeros((groups * 8, 0), np.uint8)
            values = bits.astype(np.int64) @ (1 << np.arange(bit_width, dtype=np.int64))
            take = min(len(values), count - filled)
            out[filled:filled + take] = values[:take]
        else:  # a run: (header >> 1) copies of one little-endian value
            run = header >> 1
            if run == 0:
                raise ValueError("parquet: empty RLE run")
            value = int.from_bytes(reader.take(byte_width), "little")
            take = min(run, count - filled)
            out[filled:filled + take] = value
        filled += take
    return out
