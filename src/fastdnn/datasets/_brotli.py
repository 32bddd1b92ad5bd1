"""Brotli decompression through the optional PyPI package Brotli (Google's
own bindings), imported only when a Brotli-compressed file is decoded.

Brotli rather than brotlicffi (the same C library, but through cffi, one more
dependency) or brotlipy (unmaintained since 2017): self-contained wheels for
every platform, kept by the format's authors, and since 1.2 an output limit
that stops a decompression bomb; Debian's python3-brotli is the same package.
"""

INSTALL_HINT = 'pip install "fastdnn[california]"'


class BrotliMissingError(ImportError):
    """The Brotli package is not installed."""


def require():
    """The brotli module; BrotliMissingError (naming the install command) without it."""
    try:
        import brotli
    except ImportError as error:
        raise BrotliMissingError(
            f"decoding this file needs the Brotli package: {INSTALL_HINT} (or pip install Brotli)") from error
    return brotli


def decompress(data, expected_size):
    """`data` decompressed; ValueError if it is not valid Brotli or does not
    decompress to exactly `expected_size` bytes. Output stops growing past
    expected_size + 1 where the package allows it (Brotli >= 1.2), so a
    decompression bomb is cut short."""
    brotli = require()
    try:
        decompressor = brotli.Decompressor()
        try:
            out = decompressor.process(data, output_buffer_limit=expected_size + 1)
        except TypeError:  # Brotli < 1.2 has no output limit
            out = decompressor.process(data)
        finished = decompressor.is_finished()
    except brotli.error as error:
        raise ValueError(f"brotli: corrupt data ({error})") from None
    if len(out) != expected_size or not finished:
        raise ValueError(f"brotli: data does not decompress to the {expected_size} bytes declared")
    return out
