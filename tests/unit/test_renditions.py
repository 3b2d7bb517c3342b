"""TransformImage's rendition maker on real photographs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms, ImageStat
from renditions import RenditionSpec, make_renditions, plan_widths

from mediaflow.samples import portrait_with_orientation_6


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_plan_never_upscales_and_keeps_a_rendition_for_small_images() -> None:
    assert plan_widths((320, 640, 1280), 1000) == [640, 320]
    assert plan_widths((320, 640, 320), 4000) == [640, 320]
    assert plan_widths((320, 640), 200) == [200]


def test_every_width_and_format_from_a_real_photo(samples: dict[str, Path]) -> None:
    renditions = make_renditions(samples["hubble_deep_field.jpg"].read_bytes(), RenditionSpec())
    assert [(r.width, r.format) for r in renditions] == [(640, "jpeg"), (640, "webp"), (320, "jpeg"), (320, "webp")]
    for rendition in renditions:
        image = _open(rendition.data)
        assert image.format == {"jpeg": "JPEG", "webp": "WEBP"}[rendition.format]
        assert image.size == (rendition.width, rendition.height) == (rendition.width, round(rendition.width * 0.872))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_each_exif_orientation_is_applied(orientation: int) -> None:
    _, upright = portrait_with_orientation_6()
    # Store the upright picture the way a camera would for this orientation tag.
    stored_for = {
        1: upright,
        2: upright.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        3: upright.transpose(Image.Transpose.ROTATE_180),
        4: upright.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
        5: upright.transpose(Image.Transpose.TRANSPOSE),
        6: upright.transpose(Image.Transpose.ROTATE_90),
        7: upright.transpose(Image.Transpose.TRANSVERSE),
        8: upright.transpose(Image.Transpose.ROTATE_270),
    }
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    stored_for[orientation].save(out, "JPEG", quality=95, exif=exif)

    (rendition,) = make_renditions(out.getvalue(), RenditionSpec(widths=(320,), formats=("jpeg",)))
    image = _open(rendition.data).convert("RGB")
    assert image.size == (320, 427)
    difference = ImageStat.Stat(ImageChops.difference(image, upright.resize(image.size))).mean
    assert max(difference) < 12, f"orientation {orientation} not applied: mean difference {difference}"


def test_metadata_is_stripped_but_the_colour_profile_kept(samples: dict[str, Path]) -> None:
    photo = _open(samples["coffee.jpg"].read_bytes())
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif[0x0110] = "Model X"
    out = io.BytesIO()
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo.save(out, "JPEG", exif=exif, icc_profile=icc, comment=b"secret comment")

    for rendition in make_renditions(out.getvalue(), RenditionSpec(widths=(320,))):
        image = _open(rendition.data)
        assert not image.getexif()
        assert "comment" not in image.info and "xmp" not in image.info
        assert image.info.get("icc_profile") == icc


def test_filters_apply_to_every_rendition(samples: dict[str, Path]) -> None:
    data = samples["coffee.jpg"].read_bytes()
    plain = make_renditions(data, RenditionSpec(widths=(320,), formats=("jpeg",)))[0]
    gray = make_renditions(data, RenditionSpec(widths=(320,), formats=("jpeg",), filters=("grayscale",)))[0]
    blurred = make_renditions(data, RenditionSpec(widths=(320,), formats=("jpeg",), filters=("blur",)))[0]
    assert _open(gray.data).mode == "L"
    # Blurring removes detail, which JPEG rewards with fewer bytes.
    assert len(blurred.data) < 0.8 * len(plain.data)


def test_spec_rejects_unknown_formats_and_filters() -> None:
    with pytest.raises(ValueError):
        RenditionSpec(formats=("gif",))
    with pytest.raises(ValueError):
        RenditionSpec(filters=("sepia",))
