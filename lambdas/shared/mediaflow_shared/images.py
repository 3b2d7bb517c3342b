"""Opening images the way people see them: EXIF orientation applied, RGB, optionally reduced."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

# EXIF Orientations 5-8 turn the picture by 90 degrees: the displayed width is the stored height.
_TRANSPOSING_ORIENTATIONS = frozenset({5, 6, 7, 8})


def oriented_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    """The size as displayed after EXIF `orientation`, from the size as stored (and back)."""
    return (height, width) if orientation in _TRANSPOSING_ORIENTATIONS else (width, height)


def open_upright(data: bytes, max_side: int | None = None) -> Image.Image:
    """Decode `data` upright in RGB; with `max_side`, no side is longer than that (JPEGs are
    decoded at a reduced DCT scale first, so a 12 MP photo never decodes at full size)."""
    image = Image.open(io.BytesIO(data))
    if max_side and image.format == "JPEG":
        image.draft("RGB", (max_side, max_side))
    image = ImageOps.exif_transpose(image).convert("RGB")
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BOX)
    return image
