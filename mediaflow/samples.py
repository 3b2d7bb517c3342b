"""Sample media for `make run` and the tests: real photographs that scikit-image ships.

Sources and licences (from scikit-image's data docstrings):
- astronaut: Eileen Collins, NASA Great Images database; public domain.
- chelsea: Chelsea the cat, Stefan van der Walt; CC0.
- coffee: Rachel Michetti, courtesy of Pikolo Espresso Bar; CC0.
- rocket: DSCOVR launch on Falcon 9, SpaceX; released into the public domain.
- hubble_deep_field: Hubble eXtreme Deep Field, NASA; public domain.

Two are re-packaged to exercise the workflow: the astronaut is cropped to portrait and
stored rotated with EXIF Orientation 6 (as phone cameras do), and the cat gets an
elliptical alpha mask (a PNG with transparency). The sample video is a slow pan and zoom
over the astronaut photograph (a person in every frame) with a quiet tone as its audio
track, encoded H.264/AAC in MP4 by PyAV.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

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


def encode_all(container: Any, stream: Any, frames: Iterable[Any]) -> None:
    """Encode every frame into `stream`, mux the packets, then flush the encoder."""
    for frame in frames:
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)


def tone_frames(seconds: float, rate: int = 44100, block: int = 1024) -> Iterator[Any]:
    """A quiet 440 Hz sine as mono float audio frames."""
    import av
    import numpy as np

    for index in range(int(seconds * rate / block)):
        t = (np.arange(block) + index * block) / rate
        frame = av.AudioFrame.from_ndarray(
            (0.05 * np.sin(2 * np.pi * 440 * t)).astype(np.float32).reshape(1, -1), format="fltp", layout="mono"
        )
        frame.sample_rate = rate
        yield frame


def pan_zoom_video(
    path: Path,
    seconds: float = 12.0,
    size: tuple[int, int] = (640, 360),
    fps: int = 25,
    rotation: int = 0,
    gop: int | None = None,
    audio: bool = True,
    photo: str = "astronaut.png",
    noise: float = 0.0,
    bitrate: int | None = None,
) -> Path:
    """An H.264 MP4 that slowly pans and zooms over a real photograph.

    `rotation` stores display-matrix rotation (degrees counter-clockwise, as phones write);
    `gop` sets the keyframe interval in frames (None: the encoder's default); `noise` adds
    Gaussian grain of that standard deviation to every frame, as a camera sensor does;
    `bitrate` (bits/s) replaces x264's default constant-quality mode (CRF 23) with a target
    bitrate, as cameras record (phones write 720p at about 8 Mbit/s)."""
    import av
    import numpy as np

    with Image.open(skimage_data() / photo) as source:
        picture = source.convert("RGB")
    width, height = size
    frames = round(seconds * fps)
    container = av.open(str(path), "w")
    video = container.add_stream("libx264", rate=fps)
    video.width, video.height, video.pix_fmt = width, height, "yuv420p"
    video.options = {"preset": "veryfast", **({"g": str(gop)} if gop else {})}
    if bitrate:
        video.bit_rate = bitrate
    if rotation:
        video.set_display_rotation(rotation)
    tone = container.add_stream("aac", rate=44100) if audio else None

    rng = np.random.default_rng(0)

    def pictures() -> Iterator[Any]:
        for index in range(frames):
            progress = index / max(1, frames - 1)
            zoom = 1.0 + 0.25 * progress  # crop shrinks: the camera moves in
            crop_w = picture.width / zoom
            crop_h = min(picture.height / zoom, crop_w * height / width)
            left = (picture.width - crop_w) * progress
            top = (picture.height - crop_h) * 0.2
            frame_image = picture.resize(
                (width, height), Image.Resampling.BILINEAR, box=(left, top, left + crop_w, top + crop_h)
            )
            pixels = np.asarray(frame_image)
            if noise:
                grain = rng.normal(0, noise, pixels.shape)
                pixels = np.clip(pixels + grain, 0, 255).astype(np.uint8)
            yield av.VideoFrame.from_ndarray(pixels, format="rgb24")

    encode_all(container, video, pictures())
    if tone is not None:
        encode_all(container, tone, tone_frames(seconds))
    container.close()
    return path


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
    paths.append(pan_zoom_video(folder / "astronaut-pan.mp4"))
    return paths
