"""Damaged files that look whole: each keeps a valid header (and often an end marker) so a
lenient decoder fills the missing pixels with grey instead of failing."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from mediaflow.samples import skimage_data


def _photo_jpeg(size: tuple[int, int] | None = None) -> bytes:
    with Image.open(skimage_data() / "coffee.png") as source:
        picture = source.convert("RGB").resize(size) if size else source.convert("RGB")
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def jpeg_cut_with_end_marker(fraction: float = 1 / 3) -> bytes:
    """A real photo's JPEG cut short, with the end-of-image marker put back."""
    data = _photo_jpeg()
    return data[: int(len(data) * fraction)] + b"\xff\xd9"


def jpeg_claiming_more_pixels(width: int = 7000, height: int = 7000) -> bytes:
    """A 16x16 JPEG whose frame header claims width x height."""
    data = bytearray(_photo_jpeg((16, 16)))
    frame = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, frame + 5, height, width)
    return bytes(data)


def png_rows_stop_early(width: int = 512, height: int = 5000, rows: int = 64) -> bytes:
    """A grayscale PNG whose compressed data holds `rows` of its `height` rows, then IEND."""
    pixels = b"".join(b"\x00" + bytes(i % 256 for i in range(width)) for _ in range(rows))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(pixels))
        + png_chunk(b"IEND", b"")
    )


def bmp_header_only() -> bytes:
    """ "BM" and 100 bytes: sniffs as BMP, holds no bitmap."""
    return b"BM" + bytes(range(100))
