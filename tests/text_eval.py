"""Text rendered onto real photographs, with where it was drawn: the text reader's test set.

Fonts are DejaVu (Debian's fonts-dejavu-core, installed by scripts/setup.sh); photographs are
scikit-image's. Each sample is a 1280x720 frame made from a photograph, with one to three
lines drawn the way captions, signs and titles appear: light on dark with an outline, dark on
light, large and small.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mediaflow.samples import skimage_data

FONTS = Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True)
class Drawn:
    text: str
    box: tuple[int, int, int, int]  # pixels: left, top, right, bottom


@dataclass(frozen=True)
class TextSample:
    name: str
    image: np.ndarray
    lines: list[Drawn]


# photograph, [(text, font file, size, position, fill, outline)]
SCENES = [
    ("coffee.png", [("OPEN 7 DAYS", "DejaVuSans-Bold.ttf", 64, (60, 60), "white", "black")]),
    ("astronaut.png", [("Mission Control", "DejaVuSans.ttf", 48, (700, 80), "white", "black")]),
    ("chelsea.png", [("Lost cat: call 555 0142", "DejaVuSans-Bold.ttf", 44, (80, 600), "yellow", "black")]),
    ("motorcycle_left.png", [("SALE 25% OFF", "DejaVuSerif-Bold.ttf", 72, (700, 520), "red", "white")]),
    (
        "rocket.jpg",
        [
            ("Launch window", "DejaVuSans.ttf", 40, (60, 520), "white", "black"),
            ("Tuesday 14:30 UTC", "DejaVuSansMono.ttf", 36, (60, 590), "white", "black"),
        ],
    ),
    ("camera.png", [("Breaking News", "DejaVuSans-Bold.ttf", 56, (640, 620), "black", "white")]),
    ("horse.png", [("Stable B", "DejaVuSerif.ttf", 60, (900, 300), "navy", "white")]),
]


def samples() -> Iterator[TextSample]:
    for photo, lines in SCENES:
        with Image.open(skimage_data() / photo) as source:
            frame = source.convert("RGB").resize((1280, 720))
        draw = ImageDraw.Draw(frame)
        drawn = []
        for text, font_file, size, position, fill, outline in lines:
            font = ImageFont.truetype(str(FONTS / font_file), size)
            stroke = max(2, size // 16)
            draw.text(position, text, font=font, fill=fill, stroke_width=stroke, stroke_fill=outline)
            left, top, right, bottom = draw.textbbox(position, text, font=font, stroke_width=stroke)
            drawn.append(Drawn(text, (left, top, right, bottom)))
        yield TextSample(photo, np.asarray(frame), drawn)
