"""A bounded reader of Thrift's compact protocol, enough for Parquet's footer
and page headers.

Each struct becomes a dict {field id: value}; lists become Python lists. Every
length and count is checked against the bytes that remain before anything is
allocated (an element takes at least one byte), and nesting is limited, so a
damaged or hostile header fails with ValueError instead of exhausting memory.
Spec: https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md
"""

import struct

STOP, TRUE, FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(13)
_MAX_DEPTH = 16


class Reader:
    """Reads values from `data` starting at `offset`; `offset` advances."""

    def __init__(self, data, offset=0, end=None):
        self.data = memoryview(data)
        self.offset = offset
        self.end = len(data) if end is None else end

    def remaining(self):
        return self.end - self.offset

    def byte(self):
        if self.offset >= self.end:
            raise ValueError("thrift: truncated (no byte left)")
        value = self.data[self.offset]
        self.offset += 1
        return value

    def take(self, count):
        if count < 0 or count > self.remaining():
            raise ValueError(f"thrift: {count} bytes wanted, {self.remaining()} left")
        part = bytes(self.data[self.offset:self.offset + count])
        self.offset += count
        return part

    def varint(self):
        value, shift = 0, 0
        while True:
            b = self.byte()
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7
            if shift > 63:
                raise ValueError("thrift: varint longer than 10 bytes")

    def zigzag(self):
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, kind, depth):
        if kind in (TRUE, FALSE):  # in a list a bool is one byte: 1 true, 2 false (0 accepted as false)
            return kind == TRUE
        if kind == BYTE:
            return struct.unpack("<b", self.take(1))[0]
        if kind in (I16, I32, I64):
            return self.zigzag()
        if kind == DOUBLE:
            return struct.unpack("<d", self.take(8))[0]
        if kind == BINARY:
            return self.take(self.varint())
        if kind in (LIST, SET):
            return self.sequence(depth)
        if kind == MAP:  # parquet.thrift has no maps; a map here is damage
            raise ValueError("thrift: unexpected map")
        if kind == STRUCT:
            return self.structure(depth + 1)
        raise ValueError(f"thrift: unknown type {kind}")

    def sequence(self, depth):
        header = self.byte()
        size, kind = header >> 4, header & 0x0F
        if size == 15:
            size = self.varint()
        if size > self.remaining():
            raise ValueError(f"thrift: list of {size} elements in {self.remaining()} bytes")
        if kind in (TRUE, FALSE):
            return [self.byte() == TRUE for _ in range(size)]
        return [self.value(kind, depth) for _ in range(size)]

    def structure(self, depth=0):
        if depth > _MAX_DEPTH:
            raise ValueError("thrift: structs nested too deeply")
        fields, field_id = {}, 0
        while True:
            header = self.byte()
            kind = header & 0x0F
            if kind == STOP:
                return fields
            delta = header >> 4
            field_id = field_id + delta if delta else self.zigzag()
            fields[field_id] = self.value(kind, depth)
