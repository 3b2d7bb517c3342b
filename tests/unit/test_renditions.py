"""TransformImage's rendition maker on real photographs."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageCms, ImageFilter, ImageStat
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


def _photo(mode: str = "RGB") -> Image.Image:
    """A real photograph (scikit-image's coffee, public domain) in `mode`."""
    from mediaflow.samples import skimage_data

    with Image.open(skimage_data() / "coffee.png") as source:
        return source.convert(mode)


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def _gray_as(mode: str) -> tuple[bytes, Image.Image]:
    """The photo's gray values stored as `mode`, and the 8-bit picture a viewer shows for them."""
    gray = _photo("L")
    values = np.asarray(gray, dtype=np.float64)
    if mode == "I;16":
        return _encode(Image.fromarray((values * 257).astype(np.uint16)), "PNG"), gray
    if mode == "F":
        return _encode(Image.fromarray((values / 255).astype(np.float32)), "TIFF"), gray
    stored = values * 1000 + 5000  # 32-bit integers: shown stretched from their minimum to maximum
    reference = (stored - stored.min()) * 255 / (stored.max() - stored.min())
    return _encode(Image.fromarray(stored.astype(np.int32)), "TIFF"), Image.fromarray(
        reference.round().astype(np.uint8)
    )


def _histogram(image: Image.Image) -> np.ndarray:
    """16-bin gray histogram after a slight blur, so JPEG noise and 1-bit dither compare fairly."""
    smooth = image.convert("L").filter(ImageFilter.GaussianBlur(2))
    counts = np.histogram(np.asarray(smooth), bins=16, range=(0, 256))[0]
    return counts / counts.sum()


def _assert_looks_like(rendition: Image.Image, reference: Image.Image) -> None:
    expected = reference.resize(rendition.size, Image.Resampling.BOX)
    assert abs(np.asarray(rendition.convert("L")).mean() - np.asarray(expected.convert("L")).mean()) < 3
    assert np.abs(_histogram(rendition) - _histogram(expected)).sum() < 0.15


@pytest.mark.parametrize("mode", ["I;16", "F", "I"])
def test_deep_grayscale_is_scaled_to_8_bits_not_clipped(mode: str) -> None:
    """The bug: a 16-bit PNG came out 99.6 % white, a float TIFF all black (convert() clips)."""
    data, reference = _gray_as(mode)
    for rendition in make_renditions(data, RenditionSpec(widths=(320,))):
        _assert_looks_like(_open(rendition.data), reference)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "PA", "CMYK", "RGBA"])
def test_every_8_bit_mode_keeps_its_picture(mode: str) -> None:
    photo = _photo(mode)
    if mode in ("LA", "PA"):
        photo.putalpha(255)
    fmt = "TIFF" if mode in ("CMYK", "PA") else "PNG"
    reference = photo.convert("RGBA").convert("RGB")
    for rendition in make_renditions(_encode(photo, fmt), RenditionSpec(widths=(320,))):
        _assert_looks_like(_open(rendition.data), reference)
