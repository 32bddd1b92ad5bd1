"""Weights as TensorBoard images (TensorBoard(write_images=True)): the Keras layout, PNG-encoded here."""

import struct
import zlib

import numpy as np


def weight_image(values):
    """A 2-D uint8 image of a weight, or None when Keras draws none.

    Keras' layout: a vector becomes a column (n × 1); a matrix is transposed
    when it has more rows than columns, so images are wide. Floats are taken
    to lie in [0, 1] and saturate outside it, as tf.summary.image converts them
    (x·255.5, clipped to [0, 255], truncated).
    """
    w = np.squeeze(np.asarray(values, dtype=np.float64))
    if w.ndim == 1:
        w = w.reshape(-1, 1)
    elif w.ndim == 2:
        if w.shape[0] > w.shape[1]:
            w = w.T
    else:
        return None
    w = np.nan_to_num(w, nan=0.0)
    return np.clip(w * 255.5, 0, 255).astype(np.uint8)


def png_gray(image):
    """PNG bytes of a 2-D uint8 array (8-bit grayscale, no filtering), so Pillow is not needed."""
    height, width = image.shape

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit gray, no interlace
    rows = b"".join(b"\x00" + image[r].tobytes() for r in range(height))  # filter type 0 per row
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def image_summary(tag, image):
    """A Summary protocol buffer holding one grayscale image, as TensorBoard's image plugin reads it."""
    from tensorboardX.proto.summary_pb2 import Summary

    height, width = image.shape
    encoded = Summary.Image(height=height, width=width, colorspace=1, encoded_image_string=png_gray(image))
    return Summary(value=[Summary.Value(tag=tag, image=encoded)])
