"""Test videos made on the fly with PyAV (real H.264/AAC encodes of real photographs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from mediaflow.samples import encode_all, pan_zoom_video, tone_frames


def long_low_res_clip(path: Path, minutes: float = 20, fps: int = 2) -> Path:
    """A long, tiny clip (64x36, 2 fps) over a real photo: many sampled frames, fast to make."""
    return pan_zoom_video(path, seconds=minutes * 60, size=(64, 36), fps=fps, gop=fps * 10, audio=False)


def audio_only_mp4(path: Path, seconds: float = 2.0) -> Path:
    container = av.open(str(path), "w", format="mp4")
    encode_all(container, container.add_stream("aac", rate=44100), tone_frames(seconds))
    container.close()
    return path


def truncated(source: Path, path: Path, fraction: float = 0.5) -> Path:
    """The first part of a real MP4: PyAV writes the moov index at the end, so it is lost."""
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def corrupt(source: Path, path: Path) -> Path:
    """A real MP4 header (sniffs as video) followed by garbage."""
    data = bytearray(source.read_bytes())
    rng = np.random.default_rng(7)
    data[64:] = rng.integers(0, 256, len(data) - 64, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


def unknown_codec_mkv(path: Path) -> Path:
    """A real Matroska H.264 clip whose track names a codec no decoder knows (as a camera's
    proprietary format would): the container opens, the video cannot be decoded."""
    clip = pan_zoom_video(path.with_suffix(".h264.mkv"), seconds=2, size=(64, 36), audio=False)
    data = clip.read_bytes()
    assert data.count(b"V_MPEG4/ISO/AVC") == 1
    path.write_bytes(data.replace(b"V_MPEG4/ISO/AVC", b"V_UNKNOWN/ISO/X"))  # same length: sizes stay valid
    return path


def zero_duration_mp4(path: Path) -> Path:
    """An MP4 written for an H.264 track that never got a frame (a recording stopped at once):
    the muxer drops the empty track, leaving a valid file with zero duration and no streams."""
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=25)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    container.start_encoding()
    container.close()
    return path


def faststart(source: Path, path: Path) -> Path:
    """The same MP4 remuxed with its moov index first (as streaming services and phones write)."""
    with av.open(str(source)) as reader, av.open(str(path), "w", options={"movflags": "faststart"}) as writer:
        streams = {s.index: writer.add_stream_from_template(s) for s in reader.streams if s.type in ("video", "audio")}
        for packet in reader.demux():
            if packet.dts is not None and packet.stream.index in streams:
                packet.stream = streams[packet.stream.index]
                writer.mux(packet)
    return path


def padded_to(video: bytes, size: int) -> bytes:
    """The video grown to exactly `size` bytes by an MP4 'free' box at its end: a valid file
    that players (and the workflow) read as the same video, only bigger."""
    padding = size - len(video)
    assert padding >= 8, "a box needs at least its 8-byte header"
    return video + padding.to_bytes(4, "big") + b"free" + bytes(padding - 8)


def truncated_with_index(source: Path, path: Path, fraction: float = 0.6) -> Path:
    """A moov-first MP4 cut short: the index promises every frame, the data holds only some."""
    whole = faststart(source, path.with_suffix(".whole.mp4")).read_bytes()
    assert whole[4:8] == b"ftyp" and whole.find(b"moov") < whole.find(b"mdat"), "the index comes first"
    path.write_bytes(whole[: int(len(whole) * fraction)])
    return path


# The labelled clip for scene analysis: (photograph, seconds on screen), a hard cut between
# shots except where a cross-fade of CROSS_FADE_SECONDS starts the shot named in CROSS_FADE_INTO.
SHOTS = [
    ("astronaut.png", 5.5),
    ("coffee.png", 5.8),
    ("rocket.jpg", 5.4),
    ("chelsea.png", 6.2),
    ("motorcycle_left.png", 5.0),
]
CROSS_FADE_INTO = 3
CROSS_FADE_SECONDS = 1.6


def scene_boundaries() -> list[float]:
    """The truth for the clip: where each shot after the first begins (a cross-fade's middle)."""
    starts, elapsed = [], 0.0
    for _, seconds in SHOTS[:-1]:
        elapsed += seconds
        starts.append(round(elapsed, 3))
    return starts


def labelled_scene_clip(path: Path, size: tuple[int, int] = (320, 180), fps: int = 25) -> Path:
    """Slow pans over different real photographs, joined by hard cuts and one cross-fade."""
    from PIL import Image

    from mediaflow.samples import skimage_data

    pictures = []
    for photo, _ in SHOTS:
        with Image.open(skimage_data() / photo) as source:
            pictures.append(source.convert("RGB"))
    width, height = size
    bounds = [0.0, *scene_boundaries(), sum(seconds for _, seconds in SHOTS)]

    def pan(shot: int, t: float) -> np.ndarray:
        picture = pictures[shot]
        progress = (t - bounds[shot]) / (bounds[shot + 1] - bounds[shot])
        crop_w = picture.width * 0.7
        crop_h = min(picture.height * 0.9, crop_w * height / width)
        left = (picture.width - crop_w) * min(1.0, max(0.0, progress))
        top = (picture.height - crop_h) / 2
        box = (left, top, left + crop_w, top + crop_h)
        return np.asarray(picture.resize(size, Image.Resampling.BILINEAR, box=box), dtype=np.float32)

    def frames() -> Iterator[av.VideoFrame]:
        for index in range(round(bounds[-1] * fps)):
            t = index / fps
            shot = max(s for s in range(len(SHOTS)) if bounds[s] <= t)
            pixels = pan(shot, t)
            fade_middle = bounds[CROSS_FADE_INTO]
            if abs(t - fade_middle) < CROSS_FADE_SECONDS / 2:
                weight = (t - fade_middle) / CROSS_FADE_SECONDS + 0.5  # of the incoming shot
                pixels = (1 - weight) * pan(CROSS_FADE_INTO - 1, t) + weight * pan(CROSS_FADE_INTO, t)
            yield av.VideoFrame.from_ndarray(pixels.clip(0, 255).astype(np.uint8), format="rgb24")

    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.options = {"preset": "veryfast"}
    encode_all(container, stream, frames())
    container.close()
    return path
