"""Test videos made on the fly with PyAV (real H.264/AAC encodes of real photographs)."""

from __future__ import annotations

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


def truncated_with_index(source: Path, path: Path, fraction: float = 0.6) -> Path:
    """A moov-first MP4 cut short: the index promises every frame, the data holds only some."""
    whole = faststart(source, path.with_suffix(".whole.mp4")).read_bytes()
    assert whole[4:8] == b"ftyp" and whole.find(b"moov") < whole.find(b"mdat"), "the index comes first"
    path.write_bytes(whole[: int(len(whole) * fraction)])
    return path
