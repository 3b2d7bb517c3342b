"""Make web renditions of one image: several widths, JPEG and/or WebP.

Fast path, measured in bench/bench_renditions.py: JPEG is decoded at a reduced DCT scale
(draft) just above the largest width, the largest rendition is resized from that, and each
smaller width is derived from the next larger one instead of from full size. EXIF
orientation is applied, then every rendition is encoded without EXIF/XMP (the ICC profile
is kept so colours stay right).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageFilter

from mediaflow_shared.contract.settings import Settings
from mediaflow_shared.images import oriented_size, to_8bit

# EXIF Orientation -> the transpose that displays the picture upright (as ImageOps.exif_transpose).
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_FORMATS = {"jpeg": ("JPEG", "jpg", "image/jpeg"), "webp": ("WEBP", "webp", "image/webp")}
FILTERS = ("grayscale", "blur", "sharpen")
_DEFAULTS = Settings()  # the template's defaults, written once (mediaflow_shared.contract.settings)


@dataclass(frozen=True)
class RenditionSpec:
    widths: tuple[int, ...] = _DEFAULTS.rendition_widths
    formats: tuple[str, ...] = _DEFAULTS.rendition_formats
    filters: tuple[str, ...] = _DEFAULTS.image_filters
    jpeg_quality: int = _DEFAULTS.jpeg_quality
    webp_quality: int = _DEFAULTS.webp_quality
    webp_method: int = _DEFAULTS.webp_method

    @classmethod
    def from_settings(cls, current: Settings) -> RenditionSpec:
        return cls(
            widths=current.rendition_widths,
            formats=current.rendition_formats,
            filters=current.image_filters,
            jpeg_quality=current.jpeg_quality,
            webp_quality=current.webp_quality,
            webp_method=current.webp_method,
        )

    def __post_init__(self) -> None:
        unknown = [f for f in self.formats if f not in _FORMATS] + [f for f in self.filters if f not in FILTERS]
        if unknown or not self.widths or min(self.widths) <= 0:
            raise ValueError(f"invalid rendition spec: {self}")


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    format: str
    extension: str
    content_type: str
    data: bytes


def plan_widths(requested: tuple[int, ...], source_width: int) -> list[int]:
    """Widths to make, largest first; never wider than the source (no upscaling).

    A source narrower than every requested width still gets one rendition at its own width.
    """
    widths = sorted({w for w in requested if w <= source_width}, reverse=True)
    return widths or [source_width]


def _apply_filters(image: Image.Image, filters: tuple[str, ...]) -> Image.Image:
    for name in filters:
        if name == "grayscale":
            image = image.convert("LA" if "A" in image.getbands() else "L")
        elif name == "blur":
            image = image.filter(ImageFilter.GaussianBlur(radius=max(1.0, image.width / 400)))
        elif name == "sharpen":
            image = image.filter(ImageFilter.UnsharpMask(radius=2, percent=120, threshold=3))
    return image


def _encode(image: Image.Image, fmt: str, spec: RenditionSpec, icc_profile: bytes | None) -> bytes:
    pil_format = _FORMATS[fmt][0]
    out = io.BytesIO()
    extra = {"icc_profile": icc_profile} if icc_profile else {}
    if pil_format == "JPEG":
        if "A" in image.getbands():  # JPEG has no alpha: flatten onto white
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image.convert("RGBA"), mask=image.getchannel("A"))
            image = background
        image.save(out, "JPEG", quality=spec.jpeg_quality, **extra)
    else:
        image.save(out, "WEBP", quality=spec.webp_quality, method=spec.webp_method, **extra)
    return out.getvalue()


def _decode_for_widths(data: bytes, requested: tuple[int, ...]) -> tuple[Image.Image, int, bytes | None, list[int]]:
    """Open once, plan the widths, and decode just enough pixels for the largest.

    Returns (stored-orientation image, EXIF orientation, ICC profile, widths largest first)."""
    image = Image.open(io.BytesIO(data))  # in-memory: nothing to close once loaded
    orientation = image.getexif().get(0x0112, 1)
    display_width = oriented_size(image.width, image.height, orientation)[0]
    widths = plan_widths(requested, display_width)
    scale = widths[0] / display_width
    if image.format == "JPEG" and scale < 1:
        # DCT-domain scaling (1/2, 1/4, 1/8) to the smallest size still >= the target.
        image.draft("RGB", (max(1, int(image.width * scale)), max(1, int(image.height * scale))))
    icc_profile = image.info.get("icc_profile")
    image.load()
    decoded = image if image.mode in ("RGB", "RGBA", "L", "LA") else _normalise_mode(image)
    decoded.info = {}  # Pillow re-emits comments/XMP found in info; renditions carry no metadata
    return decoded, orientation, icc_profile, widths


def _normalise_mode(image: Image.Image) -> Image.Image:
    """8-bit RGB, or RGBA where the image has transparency (1-bit, palette, CMYK, 16-bit, float...)."""
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    return to_8bit(image).convert("RGBA" if has_alpha else "RGB")


def _shrink(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Downscale by area averaging: exact halvings use reduce(); other ratios a BOX resize.

    BOX (area coverage, like OpenCV's INTER_AREA) does not ring and costs half of LANCZOS,
    and the first, largest step follows a DCT-domain draft decode that already did most of
    the shrinking (bench/bench_renditions.py measures the difference).
    """
    if image.size == size:
        return image
    if image.width == 2 * size[0] and image.height in (2 * size[1], 2 * size[1] + 1, 2 * size[1] - 1):
        return image.reduce(2)
    return image.resize(size, Image.Resampling.BOX)


def make_renditions(data: bytes, spec: RenditionSpec) -> list[Rendition]:
    decoded, orientation, icc_profile, widths = _decode_for_widths(data, spec.widths)
    display_w, display_h = oriented_size(decoded.width, decoded.height, orientation)
    current = None
    renditions = []
    for width in widths:
        height = max(1, round(display_h * width / display_w))
        if current is None:
            # Resize in stored orientation, then rotate the (smaller) result.
            stored_size = oriented_size(width, height, orientation)
            current = _shrink(decoded, stored_size)
            if orientation in _ORIENTATION_TRANSPOSE:
                current = current.transpose(_ORIENTATION_TRANSPOSE[orientation])
        else:
            current = _shrink(current, (width, height))
        filtered = _apply_filters(current, spec.filters)
        for fmt in spec.formats:
            _, extension, content_type = _FORMATS[fmt]
            renditions.append(
                Rendition(width, height, fmt, extension, content_type, _encode(filtered, fmt, spec, icc_profile))
            )
    return renditions
