from __future__ import annotations

import pytest

from mediaflow_shared.sniff import describe_unknown, extension_matches, extension_of, sniff
from tests.conftest import jpeg_bytes, png_bomb


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (jpeg_bytes()[:64], "jpeg"),
        (png_bomb()[:64], "png"),
        (b"GIF89a" + b"\x00" * 20, "gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"II*\x00" + b"\x00" * 20, "tiff"),
        (b"\x00\x00\x00\x1cftypavif" + b"\x00" * 20, "avif"),
        (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 20, "heic"),
    ],
)
def test_magic_numbers_decide_the_type(head: bytes, fmt: str) -> None:
    sniffed = sniff(head)
    assert sniffed is not None and sniffed.format == fmt


def test_text_and_unknown_binary_are_not_media() -> None:
    assert sniff(b"hello world") is None
    assert describe_unknown(b"hello world") == "text"
    assert describe_unknown(b"\xff\xfe\x00\x81") == "binary data of an unknown type"
    assert describe_unknown(b"") == "no content"


def test_extensions_are_matched_case_insensitively() -> None:
    assert extension_of("uploads/a/Photo.JPG") == "jpg"
    assert extension_of("uploads/noext") == ""
    assert extension_matches("uploads/x.JPEG", "jpeg")
    assert not extension_matches("uploads/x.jpg", "png")
