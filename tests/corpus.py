"""A generated corpus of uploads, good and bad, each with the outcome MediaFlow owes its user.

Every entry is made from real photographs (scikit-image's data) or real encodes, then named,
re-encoded, cut or damaged the way files arrive from cameras, phones, scripts and attackers.
`expected` is "SUCCEEDED", "IGNORED" (not an upload: no job, no email) or the named error.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from mediaflow.samples import pan_zoom_video, skimage_data
from tests.conftest import png_bomb
from tests.damaged import (
    bmp_header_only,
    jpeg_claiming_more_pixels,
    jpeg_cut_with_end_marker,
    png_chunk,
    png_rows_stop_early,
)
from tests.videos import audio_only_mp4, corrupt, truncated, truncated_with_index, unknown_codec_mkv, zero_duration_mp4


@dataclass(frozen=True)
class Upload:
    name: str  # the test id
    key: str
    data: Callable[[Path], bytes]  # built lazily, in a scratch folder
    expected: str
    fragment: str = ""  # part of the failure message, or of the media kind for a success

    def __str__(self) -> str:
        return self.name


def _photo(name: str = "coffee.png", mode: str = "RGB", size: tuple[int, int] | None = None) -> Image.Image:
    with Image.open(skimage_data() / name) as source:
        image = source.convert(mode)
    return image.resize(size) if size else image


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _oriented_jpeg(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _encode(_photo("astronaut.png", size=(320, 240)), "JPEG", exif=exif)


def _gray16_png() -> bytes:
    return _encode(Image.fromarray(np.asarray(_photo(mode="L"), dtype=np.uint16) * 257), "PNG")


def _float_tiff() -> bytes:
    return _encode(Image.fromarray(np.asarray(_photo(mode="L"), dtype=np.float32) / 255), "TIFF")


def _int32_tiff() -> bytes:
    return _encode(Image.fromarray(np.asarray(_photo(mode="L"), dtype=np.int32) * 1000), "TIFF")


def _png_bad_crc() -> bytes:
    data = bytearray(_encode(_photo(size=(64, 48)), "PNG"))
    idat = data.find(b"IDAT")
    data[idat + 10] ^= 0xFF  # one flipped byte inside the compressed rows: the chunk's CRC no longer matches
    return bytes(data)


def _png_missing_iend() -> bytes:
    data = _encode(_photo(size=(64, 48)), "PNG")
    return data[: data.rfind(b"IEND") - 4]


def _png_no_idat() -> bytes:
    header = struct.pack(">IIBBBBB", 64, 48, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IEND", b"")


def _zlib_bomb_png() -> bytes:
    return png_bomb(20000, 20000)


def _animated_gif() -> bytes:
    frames = [_photo(size=(80, 60)).rotate(angle) for angle in (0, 90, 180)]
    return _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def _video(maker: Callable[[Path], Path]) -> Callable[[Path], bytes]:
    return lambda folder: maker(folder).read_bytes()


def _clip(folder: Path, name: str = "clip.mp4", **options: object) -> Path:
    path = folder / name
    return path if path.exists() else pan_zoom_video(path, seconds=2, size=(64, 36), audio=False, **options)


def _fixed(data: Callable[[], bytes]) -> Callable[[Path], bytes]:
    return lambda _folder: data()


def _images_that_work() -> Iterator[Upload]:
    photo = _photo(size=(200, 150))
    formats = {
        "jpeg": ("JPEG", "jpg"),
        "png": ("PNG", "png"),
        "webp": ("WEBP", "webp"),
        "gif": ("GIF", "gif"),
        "tiff": ("TIFF", "tif"),
        "bmp": ("BMP", "bmp"),
        "avif": ("AVIF", "avif"),
    }
    for fmt, (pil, ext) in formats.items():
        yield Upload(
            f"{fmt}", f"uploads/corpus/photo-{fmt}.{ext}", _fixed(lambda p=pil: _encode(photo, p)), "SUCCEEDED"
        )
    yield Upload(
        "progressive-jpeg",
        "uploads/corpus/progressive.jpg",
        _fixed(lambda: _encode(photo, "JPEG", progressive=True)),
        "SUCCEEDED",
    )
    yield Upload(
        "cmyk-jpeg", "uploads/corpus/cmyk.jpg", _fixed(lambda: _encode(photo.convert("CMYK"), "JPEG")), "SUCCEEDED"
    )
    yield Upload(
        "cmyk-tiff", "uploads/corpus/cmyk.tif", _fixed(lambda: _encode(photo.convert("CMYK"), "TIFF")), "SUCCEEDED"
    )
    yield Upload(
        "one-bit-png", "uploads/corpus/one-bit.png", _fixed(lambda: _encode(photo.convert("1"), "PNG")), "SUCCEEDED"
    )
    yield Upload(
        "gray-alpha-png", "uploads/corpus/la.png", _fixed(lambda: _encode(photo.convert("LA"), "PNG")), "SUCCEEDED"
    )
    yield Upload(
        "palette-png", "uploads/corpus/palette.png", _fixed(lambda: _encode(photo.convert("P"), "PNG")), "SUCCEEDED"
    )
    yield Upload("gray16-png", "uploads/corpus/gray16.png", _fixed(_gray16_png), "SUCCEEDED")
    yield Upload("float-tiff", "uploads/corpus/float.tif", _fixed(_float_tiff), "SUCCEEDED")
    yield Upload("int32-tiff", "uploads/corpus/int32.tif", _fixed(_int32_tiff), "SUCCEEDED")
    yield Upload("animated-gif", "uploads/corpus/animated.gif", _fixed(_animated_gif), "SUCCEEDED")
    yield Upload(
        "one-pixel-png", "uploads/corpus/dot.png", _fixed(lambda: _encode(photo.resize((1, 1)), "PNG")), "SUCCEEDED"
    )
    yield Upload(
        "panorama-strip",
        "uploads/corpus/strip.png",
        _fixed(lambda: _encode(photo.resize((3000, 8)), "PNG")),
        "SUCCEEDED",
    )
    for orientation in range(1, 9):
        yield Upload(
            f"exif-orientation-{orientation}",
            f"uploads/corpus/orientation-{orientation}.jpg",
            _fixed(lambda o=orientation: _oriented_jpeg(o)),
            "SUCCEEDED",
        )
    # Names: extensions lie, are missing or shout; keys carry what S3 URL-encodes.
    yield Upload(
        "jpeg-named-png", "uploads/corpus/really-jpeg.png", _fixed(lambda: _encode(photo, "JPEG")), "SUCCEEDED"
    )
    yield Upload("no-extension", "uploads/corpus/IMG_0001", _fixed(lambda: _encode(photo, "JPEG")), "SUCCEEDED")
    yield Upload(
        "upper-case-extension", "uploads/corpus/SHOUT.JPEG", _fixed(lambda: _encode(photo, "JPEG")), "SUCCEEDED"
    )
    for number, name in enumerate(
        [
            "a b+c%20d.jpg",
            "été ☀ 日本.jpg",
            "#1?&=;.jpg",
            "'quoted' \"name\".jpg",
            "tab\there.jpg",
            "../../outside.jpg",
            "deep/er/path/x.jpg",
        ]
    ):
        data = _encode(photo, "JPEG") + bytes([number])  # distinct bytes: distinct etags and jobs
        yield Upload(f"odd-key-{number}", f"uploads/corpus/{name}", _fixed(lambda d=data: d), "SUCCEEDED")


def _images_that_fail() -> Iterator[Upload]:
    photo_jpeg = _encode(_photo(size=(200, 150)), "JPEG")
    yield Upload("zero-bytes-jpg", "uploads/corpus/empty.jpg", _fixed(lambda: b""), "EmptyMedia", "is empty")
    yield Upload("zero-bytes-no-extension", "uploads/corpus/empty", _fixed(lambda: b""), "EmptyMedia", "is empty")
    yield Upload(
        "text-named-jpg",
        "uploads/corpus/notes.jpg",
        _fixed(lambda: b"not a photo\n" * 20),
        "UnsupportedMediaType",
        "is text",
    )
    yield Upload(
        "html-named-png",
        "uploads/corpus/page.png",
        _fixed(lambda: b"<!doctype html><script>alert(1)</script>"),
        "UnsupportedMediaType",
        "is text",
    )
    yield Upload(
        "svg",
        "uploads/corpus/vector.svg",
        _fixed(lambda: b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
        "UnsupportedMediaType",
        "is text",
    )
    yield Upload(
        "pdf",
        "uploads/corpus/scan.pdf",
        _fixed(lambda: b"%PDF-1.7\n" + bytes(range(256)) * 4),
        "UnsupportedMediaType",
        "binary data",
    )
    yield Upload(
        "zip",
        "uploads/corpus/photos.zip",
        _fixed(lambda: b"PK\x03\x04" + bytes(range(256)) * 4),
        "UnsupportedMediaType",
        "binary data",
    )
    yield Upload(
        "heic",
        "uploads/corpus/phone.heic",
        _fixed(lambda: b"\x00\x00\x00\x18ftypheic" + b"\x00" * 200),
        "UnsupportedMediaType",
        "HEIC",
    )
    yield Upload(
        "random-bytes",
        "uploads/corpus/noise.jpg",
        _fixed(lambda: np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8).tobytes()),
        "UnsupportedMediaType",
        "binary data",
    )
    yield Upload(
        "jpeg-no-end",
        "uploads/corpus/cut.jpg",
        _fixed(lambda: photo_jpeg[: len(photo_jpeg) // 2]),
        "CorruptMedia",
        "cannot be decoded",
    )
    yield Upload(
        "jpeg-cut-with-end-marker",
        "uploads/corpus/cut-eoi.jpg",
        _fixed(jpeg_cut_with_end_marker),
        "CorruptMedia",
        "truncated or damaged",
    )
    yield Upload(
        "jpeg-claims-7000x7000",
        "uploads/corpus/claims.jpg",
        _fixed(jpeg_claiming_more_pixels),
        "CorruptMedia",
        "truncated or damaged",
    )
    yield Upload(
        "jpeg-marker-then-garbage",
        "uploads/corpus/garbage.jpg",
        _fixed(lambda: b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8),
        "CorruptMedia",
        "",
    )
    yield Upload(
        "png-rows-stop-early",
        "uploads/corpus/short.png",
        _fixed(png_rows_stop_early),
        "CorruptMedia",
        "truncated or damaged",
    )
    yield Upload("png-bad-crc", "uploads/corpus/crc.png", _fixed(_png_bad_crc), "CorruptMedia", "")
    # Every pixel is there; only the closing chunk is missing: decoders (and MediaFlow) accept it.
    yield Upload("png-missing-iend", "uploads/corpus/no-iend.png", _fixed(_png_missing_iend), "SUCCEEDED")
    yield Upload("png-without-pixels", "uploads/corpus/no-idat.png", _fixed(_png_no_idat), "CorruptMedia", "")
    yield Upload(
        "bmp-header-only", "uploads/corpus/short.bmp", _fixed(bmp_header_only), "CorruptMedia", "header cannot be read"
    )
    yield Upload(
        "gif-header-only", "uploads/corpus/short.gif", _fixed(lambda: b"GIF89a" + b"\x00" * 7), "CorruptMedia", ""
    )
    yield Upload(
        "tiff-header-only", "uploads/corpus/short.tif", _fixed(lambda: b"II*\x00\x08\x00\x00\x00"), "CorruptMedia", ""
    )
    yield Upload(
        "webp-header-only",
        "uploads/corpus/short.webp",
        _fixed(lambda: b"RIFF\x10\x00\x00\x00WEBPVP8 "),
        "CorruptMedia",
        "",
    )
    yield Upload("png-bomb-30000", "uploads/corpus/bomb.png", _fixed(png_bomb), "MediaTooLarge", "pixels")
    yield Upload("png-bomb-20000", "uploads/corpus/bomb2.png", _fixed(_zlib_bomb_png), "MediaTooLarge", "pixels")


def _videos() -> Iterator[Upload]:
    yield Upload("mp4", "uploads/corpus/clip.mp4", _video(_clip), "SUCCEEDED", "video")
    yield Upload(
        "mp4-index-first",
        "uploads/corpus/faststart.mp4",
        _video(lambda f: truncated_with_index(_clip(f), f / "whole-first.mp4", fraction=1.0)),
        "SUCCEEDED",
        "video",
    )
    yield Upload(
        "mp4-rotated",
        "uploads/corpus/portrait.mp4",
        _video(lambda f: _clip(f, "rotated.mp4", rotation=90)),
        "SUCCEEDED",
        "video",
    )
    yield Upload("mp4-named-mov", "uploads/corpus/clip.MOV", _video(_clip), "SUCCEEDED", "video")
    yield Upload("zero-bytes-mp4", "uploads/corpus/empty.mp4", _fixed(lambda: b""), "EmptyMedia", "is empty")
    yield Upload(
        "mp4-zero-duration",
        "uploads/corpus/zero.mp4",
        _video(lambda f: zero_duration_mp4(f / "z.mp4")),
        "EmptyMedia",
        "",
    )
    yield Upload(
        "mp4-audio-only",
        "uploads/corpus/voice.mp4",
        _video(lambda f: audio_only_mp4(f / "a.mp4")),
        "UnsupportedMediaType",
        "no video stream",
    )
    yield Upload(
        "mkv-unknown-codec",
        "uploads/corpus/camera.mkv",
        _video(lambda f: unknown_codec_mkv(f / "u.mkv")),
        "UnsupportedMediaType",
        "no decoder",
    )
    yield Upload(
        "mp4-truncated-no-index",
        "uploads/corpus/cut.mp4",
        _video(lambda f: truncated(_clip(f), f / "cut.mp4")),
        "CorruptMedia",
        "cannot be opened",
    )
    yield Upload(
        "mp4-truncated-index-intact",
        "uploads/corpus/cut-indexed.mp4",
        _video(lambda f: truncated_with_index(_clip(f), f / "cut-indexed.mp4")),
        "CorruptMedia",
        "",
    )
    yield Upload(
        "mp4-garbage-after-header",
        "uploads/corpus/garbage.mp4",
        _video(lambda f: corrupt(_clip(f), f / "garbage.mp4")),
        "CorruptMedia",
        "",
    )


def _not_uploads() -> Iterator[Upload]:
    yield Upload("folder-marker", "uploads/corpus/album/", _fixed(lambda: b""), "IGNORED")
    yield Upload("nested-folder-marker", "uploads/corpus/a/b/c/", _fixed(lambda: b""), "IGNORED")


CORPUS: list[Upload] = [*_images_that_work(), *_images_that_fail(), *_videos(), *_not_uploads()]
