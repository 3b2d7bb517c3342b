"""Sample media for `make run` and the tests: real photographs that scikit-image ships.

Sources and licences (from scikit-image's data docstrings):
- astronaut: Eileen Collins, NASA Great Images database; public domain.
- chelsea: Chelsea the cat, Stefan van der Walt; CC0.
- coffee: Rachel Michetti, courtesy of Pikolo Espresso Bar; CC0.
- rocket: DSCOVR launch on Falcon 9, SpaceX; released into the public domain.
- hubble_deep_field: Hubble eXtreme Deep Field, NASA; public domain.

Two are re-packaged to exercise the workflow: the astronaut is cropped to portrait and
stored rotated with EXIF Orientation 6 (as phone cameras do), and the cat gets an
elliptical alpha mask (a PNG with transparency).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from PIL import Image, ImageDraw


def skimage_data() -> Path:
    import skimage.data

    return Path(skimage.data.__file__).parent


def portrait_with_orientation_6() -> tuple[bytes, Image.Image]:
    """A portrait photo stored landscape with EXIF Orientation 6; also returns the upright image."""
    with Image.open(skimage_data() / "astronaut.png") as source:
        upright = source.convert("RGB").crop((64, 0, 448, 512))  # 384 x 512, portrait
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what the sensor wrote: 512 x 384
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    out = io.BytesIO()
    stored.save(out, "JPEG", quality=92, exif=exif)
    return out.getvalue(), upright


def transparent_png() -> bytes:
    with Image.open(skimage_data() / "chelsea.png") as source:
        image = source.convert("RGBA")
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).ellipse((10, 10, image.width - 10, image.height - 10), fill=255)
    image.putalpha(mask)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def coffee_jpeg() -> bytes:
    with Image.open(skimage_data() / "coffee.png") as source:
        out = io.BytesIO()
        source.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def write_samples(folder: Path) -> list[Path]:
    """Write the sample photographs into `folder` and return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    portrait, _ = portrait_with_orientation_6()
    files = {
        "astronaut-portrait-exif6.jpg": portrait,
        "chelsea-transparent.png": transparent_png(),
        "coffee.jpg": coffee_jpeg(),
    }
    paths = []
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    for original in ("rocket.jpg", "hubble_deep_field.jpg"):  # the original JPEG files, untouched
        path = folder / original
        shutil.copyfile(skimage_data() / original, path)
        paths.append(path)
    return paths
