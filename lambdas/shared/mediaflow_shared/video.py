"""Open videos with PyAV (FFmpeg) and read what the workflow needs: shared by Validate and
ExtractFrames so both agree on duration, rate and rotation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, BinaryIO

import av
import numpy as np

from mediaflow_shared.errors import CorruptMedia, EmptyMedia, UnsupportedMediaType
from mediaflow_shared.sandbox import vcpus


@dataclass(frozen=True)
class VideoInfo:
    duration: float  # seconds
    fps: float
    frame_count: int
    width: int  # as displayed (rotation applied)
    height: int
    rotation: int  # degrees counter-clockwise to display, as FFmpeg reports it
    codec: str
    has_audio: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "duration": round(self.duration, 3),
            "fps": round(self.fps, 3),
            "frameCount": self.frame_count,
            "width": self.width,
            "height": self.height,
            "rotation": self.rotation,
            "codec": self.codec,
            "hasAudio": self.has_audio,
        }


def ffmpeg_reason(err: av.error.FFmpegError) -> str:
    """FFmpeg's reason in words, without the (temporary) file name it names."""
    return err.strerror or type(err).__name__


def decode_threads() -> int:
    """Decoder threads: the sandbox's vCPUs (FFmpeg would otherwise start one per host core)."""
    return vcpus()


def open_container(source: str | BinaryIO, name: str) -> av.container.InputContainer:
    """A video from a path or a seekable file object (mediaflow_shared.s3_reader streams one from S3)."""
    try:
        return av.open(source, mode="r")
    except av.error.FFmpegError as err:  # truncated (no moov atom), damaged headers, ...
        raise CorruptMedia(f"{name} cannot be opened as video: {ffmpeg_reason(err)}") from err


def _check_data_holds_the_end(
    container: av.container.InputContainer, stream: av.VideoStream, duration: float, fps: float, name: str
) -> None:
    """The index (an MP4's moov, Matroska's cues) promises `duration` seconds: decode the last
    second to prove the data holds them. A file cut short after its index fails here, at
    Validate, rather than mid-way through sampling."""
    container.seek(int(max(0.0, duration - 1.0) / stream.time_base), stream=stream, backward=True)
    last = None
    try:
        for frame in container.decode(stream):
            last = frame.time if frame.time is not None else last
    except av.error.FFmpegError as err:
        raise CorruptMedia(f"{name} is damaged near its end: {ffmpeg_reason(err)}") from err
    if last is None or last < duration - 1.0 - 2 / fps:
        ends = f"{last:.1f} s" if last is not None else "its start"
        raise CorruptMedia(
            f"{name} is truncated: its index promises {duration:.1f} s of video, its data ends at {ends}"
        )


def upright(frame: av.VideoFrame) -> np.ndarray:
    """The frame as an RGB array, rotated the way players display it."""
    array = frame.to_ndarray(format="rgb24")
    turns = (frame.rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(array, k=turns)) if turns else array


def probe_video(source: str | BinaryIO, name: str) -> VideoInfo:
    with open_container(source, name) as container:
        if not container.streams:  # what muxers leave of a recording stopped before its first frame
            raise EmptyMedia(f"{name} contains no audio or video streams (zero duration)")
        if not container.streams.video:
            kinds = sorted({s.type for s in container.streams}) or ["no streams"]
            raise UnsupportedMediaType(f"{name} has no video stream (only {', '.join(kinds)})")
        stream = container.streams.video[0]
        has_audio = bool(container.streams.audio)
        try:
            first = next(container.decode(stream), None)
        except av.error.DecoderNotFoundError as err:  # the container names a codec FFmpeg has no decoder for
            raise UnsupportedMediaType(f"{name} uses a video codec MediaFlow has no decoder for") from err
        except av.error.FFmpegError as err:
            raise CorruptMedia(f"{name}: the first video frame cannot be decoded: {ffmpeg_reason(err)}") from err
        if first is None:
            raise EmptyMedia(f"{name} has a video stream without any frames")
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / av.time_base
        else:
            duration = 0.0
        if duration <= 0 or fps <= 0:
            raise EmptyMedia(f"{name} has zero duration")
        _check_data_holds_the_end(container, stream, duration, fps, name)
        frame_count = stream.frames or round(duration * fps)
        rotation = int(first.rotation) % 360
        width, height = stream.codec_context.width, stream.codec_context.height
        if rotation in (90, 270):
            width, height = height, width
        return VideoInfo(duration, fps, frame_count, width, height, rotation, stream.codec_context.name, has_audio)
