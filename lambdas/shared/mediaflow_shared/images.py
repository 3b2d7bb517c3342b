"""Opening images the way people see them: EXIF orientation applied, RGB, optionally reduced."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

# EXIF Orientations 5-8 turn the picture by 90 degrees: the displayed width is the stored height.
_TRANSPOSING_ORIENTATIONS = frozenset({5, 6, 7, 8})


def oriented_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    """The size as displayed after EXIF `orientation`, from the size as stored (and back)."""
    return (height, width) if orientation in _TRANSPOSING_ORIENTATIONS else (width, height)


_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
_TIFF_BITS_PER_SAMPLE = 258


def to_8bit(image: Image.Image) -> Image.Image:
    """Grayscale of more than 8 bits (16-bit, 32-bit integer, float) as 8-bit "L", scaled from
    the range the data was stored in: Pillow's convert() clips instead, which turns a 16-bit
    photo white and a 0..1 float image black. Other modes come back unchanged.

    16-bit data spans 0..65535. Float data spans 0..1 when it fits (the convention for float
    images), its own minimum..maximum otherwise, as is 32-bit integer data, which has no
    conventional range (image viewers show both that way)."""
    if image.mode in _SIXTEEN_BIT_MODES:
        image = image.convert("I")
        low, high = 0.0, 65535.0
    elif image.mode == "I":
        stored_16_bit = getattr(image, "tag_v2", {}).get(_TIFF_BITS_PER_SAMPLE) in (16, (16,))
        low, high = (0.0, 65535.0) if stored_16_bit else image.getextrema()
    elif image.mode == "F":
        low, high = image.getextrema()
        if low >= 0 and high <= 1:
            low, high = 0.0, 1.0
    else:
        return image
    scale = 255 / (high - low) if high > low else 0.0
    return image.point(lambda value: (value - low) * scale).convert("L")


def open_upright(data: bytes, max_side: int | None = None) -> Image.Image:
    """Decode `data` upright in RGB; with `max_side`, no side is longer than that (JPEGs are
    decoded at a reduced DCT scale first, so a 12 MP photo never decodes at full size)."""
    image = Image.open(io.BytesIO(data))
    if max_side and image.format == "JPEG":
        image.draft("RGB", (max_side, max_side))
    image = to_8bit(ImageOps.exif_transpose(image)).convert("RGB")
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BOX)
    return image
