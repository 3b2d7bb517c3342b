"""Decode-check an image completely and read the metadata the workflow records.

An image is accepted only when every pixel its header declares decodes from its data. Pillow
alone is lenient where libjpeg and zlib are: a JPEG cut short with an end marker appended, or
a PNG whose compressed rows stop early before IEND, load without an error as grey or black.
So JPEG and PNG are also decoded by FFmpeg with error detection set to explode, which refuses
exactly those.
"""

from __future__ import annotations

import io
import struct
from typing import Any

import av
from PIL import ExifTags, Image, ImageFile, UnidentifiedImageError

from mediaflow_shared.errors import CorruptMedia, MediaTooLarge, UnsupportedMediaType
from mediaflow_shared.images import oriented_size

_PIL_FORMATS = {
    "JPEG": "jpeg",
    "PNG": "png",
    "WEBP": "webp",
    "GIF": "gif",
    "TIFF": "tiff",
    "BMP": "bmp",
    "AVIF": "avif",
    "MPO": "jpeg",
}
_PILLOW_DECODE_ERRORS = (OSError, SyntaxError, ValueError, struct.error, EOFError, IndexError)
# FFmpeg's demuxers for a single image in memory, for the formats Pillow decodes leniently.
_STRICT_DEMUXERS = {"jpeg": "jpeg_pipe", "png": "png_pipe"}

# Our own limit (MAX_IMAGE_PIXELS) is checked from the header before any decode, with a
# message naming the size; Pillow's generic guard would pre-empt it with its own default.
Image.MAX_IMAGE_PIXELS = None
ImageFile.LOAD_TRUNCATED_IMAGES = False  # Pillow's default, stated: a short file must raise


def _camera_metadata(exif: Image.Exif, include_gps: bool) -> dict[str, Any]:
    details = exif.get_ifd(ExifTags.IFD.Exif)
    found = {
        "make": exif.get(ExifTags.Base.Make),
        "model": exif.get(ExifTags.Base.Model),
        "software": exif.get(ExifTags.Base.Software),
        "takenAt": details.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime),
    }
    if include_gps:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        if gps:
            found["gps"] = {ExifTags.GPSTAGS.get(tag, str(tag)): str(value) for tag, value in gps.items()}
    return {name: str(value).strip("\x00 ") for name, value in found.items() if value}


def _decode_strictly(data: bytes, fmt: str, name: str) -> None:
    """Decode with FFmpeg, error detection set to explode (any damage in the data is an error)."""
    demuxer = _STRICT_DEMUXERS.get(fmt)
    if demuxer is None:
        return
    try:
        with av.open(io.BytesIO(data), format=demuxer) as container:
            container.streams.video[0].codec_context.options = {"err_detect": "explode"}
            if not any(True for _ in container.decode(video=0)):
                raise CorruptMedia(f"{name} holds no decodable {fmt.upper()} image")
    except av.error.FFmpegError as err:
        raise CorruptMedia(f"{name} is truncated or damaged: its data ends before its pixels do") from err


def probe_image(data: bytes, *, expected_format: str, max_pixels: int, include_gps: bool, name: str) -> dict[str, Any]:
    """Return size, orientation and camera metadata, or raise a named error.

    The pixel limit is checked from the header, before any decode, so a decompression
    bomb never allocates its pixels.
    """
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, *_PILLOW_DECODE_ERRORS) as err:  # e.g. "BM" and 100 bytes: a short header
        raise CorruptMedia(f"{name} looks like {expected_format.upper()} but its header cannot be read") from err

    with image:
        stored_width, stored_height = image.size
        if stored_width * stored_height > max_pixels:
            raise MediaTooLarge(
                f"{name} is {stored_width}x{stored_height} = {stored_width * stored_height} pixels;"
                f" the limit is {max_pixels} pixels"
            )
        actual_format = _PIL_FORMATS.get(image.format or "", (image.format or "").lower())
        if actual_format != expected_format:
            raise UnsupportedMediaType(f"{name}: content sniffed as {expected_format} but decodes as {actual_format}")
        try:
            exif = image.getexif()
            orientation = int(exif.get(ExifTags.Base.Orientation, 1) or 1)
            camera = _camera_metadata(exif, include_gps)
            mode = image.mode
            has_alpha = mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            frames = getattr(image, "n_frames", 1)
            image.load()  # every pixel, at full size: the pixel limit above bounds the memory
        except _PILLOW_DECODE_ERRORS as err:
            raise CorruptMedia(f"{name} cannot be decoded: {err}") from err
    _decode_strictly(data, expected_format, name)

    width, height = oriented_size(stored_width, stored_height, orientation)
    return {
        "width": width,
        "height": height,
        "storedWidth": stored_width,
        "storedHeight": stored_height,
        "orientation": orientation,
        "mode": mode,
        "hasAlpha": has_alpha,
        "frames": frames,
        "camera": camera,
    }
