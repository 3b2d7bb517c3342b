from __future__ import annotations

import io
from pathlib import Path

import pytest
from image_probe import probe_image
from PIL import Image

from mediaflow_shared.errors import CorruptMedia, MediaTooLarge
from tests.conftest import png_bomb
from tests.damaged import bmp_header_only, jpeg_claiming_more_pixels, jpeg_cut_with_end_marker, png_rows_stop_early


def _probe(data: bytes, fmt: str = "jpeg", **kwargs: object) -> dict:
    options = {"expected_format": fmt, "max_pixels": 50_000_000, "include_gps": False, "name": "x"} | kwargs
    return probe_image(data, **options)  # type: ignore[arg-type]


def test_orientation_swaps_the_displayed_size(samples: dict[str, Path]) -> None:
    probe = _probe(samples["astronaut-portrait-exif6.jpg"].read_bytes())
    assert (probe["storedWidth"], probe["storedHeight"]) == (512, 384)
    assert (probe["width"], probe["height"], probe["orientation"]) == (384, 512, 6)


def test_bomb_is_rejected_from_its_header() -> None:
    with pytest.raises(MediaTooLarge, match="30000x30000"):
        _probe(png_bomb(), "png")


def test_pixel_limit_is_configurable(samples: dict[str, Path]) -> None:
    with pytest.raises(MediaTooLarge, match="the limit is 1000 pixels"):
        _probe(samples["coffee.jpg"].read_bytes(), max_pixels=1000)


def test_truncated_png_is_corrupt(samples: dict[str, Path]) -> None:
    data = samples["chelsea-transparent.png"].read_bytes()
    with pytest.raises(CorruptMedia):
        _probe(data[: len(data) // 2], "png")


def test_gps_is_only_kept_when_allowed(samples: dict[str, Path]) -> None:
    image = Image.open(samples["coffee.jpg"])
    exif = Image.Exif()
    exif[0x010F] = "Maker"
    exif.get_ifd(0x8825)[2] = (48.0, 51.0, 29.0)  # GPSLatitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)

    assert "gps" not in _probe(out.getvalue())["camera"]
    allowed = _probe(out.getvalue(), include_gps=True)["camera"]
    assert allowed["make"] == "Maker" and "GPSLatitude" in allowed["gps"]


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        (jpeg_cut_with_end_marker(), "jpeg", "truncated or damaged"),
        (jpeg_claiming_more_pixels(), "jpeg", "truncated or damaged"),
        (png_rows_stop_early(), "png", "truncated or damaged"),
        (bmp_header_only(), "bmp", "cannot be read"),
    ],
    ids=["jpeg-cut-with-end-marker", "jpeg-claims-7000x7000", "png-rows-stop-early", "bmp-header-only"],
)
def test_damaged_images_that_look_whole_are_corrupt(data: bytes, fmt: str, message: str) -> None:
    """The bug: each of these loaded in Pillow as grey or black and the job SUCCEEDED."""
    with pytest.raises(CorruptMedia, match=message):
        _probe(data, fmt)
