"""Identify a file's real type from its first bytes (magic numbers), never from its name."""

from __future__ import annotations

from dataclasses import dataclass

SNIFF_BYTES = 64


@dataclass(frozen=True)
class SniffedType:
    kind: str  # "image" or "video"
    format: str  # short name, e.g. "jpeg"
    mime_type: str


_ISO_BMFF_IMAGE_BRANDS = {
    b"avif": ("avif", "image/avif"),
    b"avis": ("avif", "image/avif"),
    b"heic": ("heic", "image/heic"),
    b"heix": ("heic", "image/heic"),
    b"mif1": ("heif", "image/heif"),
    b"msf1": ("heif", "image/heif"),
}

# Formats Pillow decodes in the Lambda runtime; HEIC/HEIF would need pillow-heif.
SUPPORTED_IMAGE_FORMATS = frozenset({"jpeg", "png", "webp", "gif", "tiff", "bmp", "avif"})
# Containers PyAV (FFmpeg) opens; the codec inside is checked by the video probe.
SUPPORTED_VIDEO_FORMATS = frozenset({"mp4", "mov", "webm", "mkv", "avi"})
_QUICKTIME_BRANDS = {b"qt  "}

# Extensions users give each format, matched case-insensitively.
EXTENSIONS = {
    "jpeg": {"jpg", "jpeg", "jpe", "jfif"},
    "png": {"png"},
    "webp": {"webp"},
    "gif": {"gif"},
    "tiff": {"tif", "tiff"},
    "bmp": {"bmp"},
    "avif": {"avif"},
    "heic": {"heic", "heif"},
    "heif": {"heic", "heif"},
    "mp4": {"mp4", "m4v", "m4a", "3gp"},
    "mov": {"mov", "qt"},
    "webm": {"webm"},
    "mkv": {"mkv"},
    "avi": {"avi"},
}


def sniff(head: bytes) -> SniffedType | None:
    """Return the type the leading bytes prove, or None when they match nothing known."""
    if head.startswith(b"\xff\xd8\xff"):
        return SniffedType("image", "jpeg", "image/jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return SniffedType("image", "png", "image/png")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return SniffedType("image", "gif", "image/gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return SniffedType("image", "webp", "image/webp")
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return SniffedType("image", "tiff", "image/tiff")
    if head[:2] == b"BM" and len(head) >= 26:
        return SniffedType("image", "bmp", "image/bmp")
    if head[4:8] == b"ftyp":
        brand = _ISO_BMFF_IMAGE_BRANDS.get(head[8:12])
        if brand:
            return SniffedType("image", *brand)
        if head[8:12] in _QUICKTIME_BRANDS:
            return SniffedType("video", "mov", "video/quicktime")
        return SniffedType("video", "mp4", "video/mp4")  # isom, mp41, mp42, avc1, M4V, 3gp...
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska or its WebM profile
        return (
            SniffedType("video", "webm", "video/webm")
            if b"webm" in head
            else SniffedType("video", "mkv", "video/x-matroska")
        )
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return SniffedType("video", "avi", "video/x-msvideo")
    return None


def describe_unknown(head: bytes) -> str:
    """A short human description of content that matched no magic number."""
    if not head:
        return "no content"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "binary data of an unknown type"
    printable = all(ch.isprintable() or ch in "\t\r\n\f" for ch in text)
    return "text" if printable else "binary data of an unknown type"


def extension_of(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def extension_matches(key: str, fmt: str) -> bool:
    return extension_of(key) in EXTENSIONS.get(fmt, {fmt})
