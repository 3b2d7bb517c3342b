"""Human-friendly artefacts: key frames with boxes drawn, and a contact sheet for videos."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageDraw, ImageFont

_COLOURS = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240)]


def _colour(label: str) -> tuple[int, int, int]:
    return _COLOURS[sum(map(ord, label)) % len(_COLOURS)]


def draw_detections(image: Image.Image, detections: list[dict[str, Any]]) -> Image.Image:
    """Boxes (relative coordinates) with label and confidence, line width scaled to the image."""
    annotated = image.copy()
    draw = ImageDraw.Draw(annotated)
    line = max(2, image.width // 320)
    font = ImageFont.load_default(size=max(12, image.width // 50))
    for detection in detections:
        box = detection["box"]
        x1, y1 = box["left"] * image.width, box["top"] * image.height
        x2, y2 = x1 + box["width"] * image.width, y1 + box["height"] * image.height
        colour = _colour(detection["label"])
        draw.rectangle((x1, y1, x2, y2), outline=colour, width=line)
        caption = f"{detection['label']} {detection['confidence']:.0%}"
        left, top, right, bottom = draw.textbbox((x1, y1), caption, font=font)
        text_y = y1 - (bottom - top) - 2 * line if y1 > (bottom - top) + 2 * line else y2
        draw.rectangle((x1, text_y, x1 + (right - left) + 2 * line, text_y + (bottom - top) + 2 * line), fill=colour)
        draw.text((x1 + line, text_y), caption, fill=(255, 255, 255), font=font)
    return annotated


def contact_sheet(tiles: list[tuple[Image.Image, str]], columns: int = 6, tile_width: int = 240) -> Image.Image:
    """A grid of frames, each captioned (e.g. with its timestamp)."""
    rows = max(1, -(-len(tiles) // columns))
    tile_height = max((round(img.height * tile_width / img.width) for img, _ in tiles), default=tile_width)
    caption_height = 18
    sheet = Image.new("RGB", (columns * tile_width, rows * (tile_height + caption_height)), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=13)
    for position, (image, caption) in enumerate(tiles):
        x = (position % columns) * tile_width
        y = (position // columns) * (tile_height + caption_height)
        thumb = image.resize((tile_width, round(image.height * tile_width / image.width)), Image.Resampling.BOX)
        sheet.paste(thumb, (x, y))
        draw.text((x + 4, y + tile_height + 2), caption, fill=(230, 230, 230), font=font)
    return sheet


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()
