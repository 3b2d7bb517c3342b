"""Video sniffing, probing and keyframe-aware sampling on real encodes."""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest
from sampler import sample_frames, sample_times

from mediaflow.samples import encode_all, pan_zoom_video
from mediaflow_shared.errors import CorruptMedia, EmptyMedia, UnsupportedMediaType
from mediaflow_shared.sniff import sniff
from mediaflow_shared.video import decode_threads, probe_video
from tests.videos import (
    audio_only_mp4,
    faststart,
    truncated,
    truncated_with_index,
    unknown_codec_mkv,
    zero_duration_mp4,
)


def _numbered_clip(path: Path, seconds: int, fps: int, gop: int) -> Path:
    """Each frame's grey level encodes its index, so the sampled frame's identity is checkable."""
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    stream.options = {"g": str(gop), "preset": "ultrafast"}
    frames = (
        av.VideoFrame.from_ndarray(np.full((48, 64, 3), index % 256, np.uint8), format="rgb24")
        for index in range(seconds * fps)
    )
    encode_all(container, stream, frames)
    container.close()
    return path


def test_containers_are_sniffed_as_video(tmp_path: Path) -> None:
    mp4 = pan_zoom_video(tmp_path / "a.mp4", seconds=1, size=(64, 36), audio=False).read_bytes()[:64]
    assert (sniff(mp4).kind, sniff(mp4).format) == ("video", "mp4")
    assert sniff(b"\x00\x00\x00\x14ftypqt  " + b"\0" * 20).format == "mov"
    assert sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01webm").format == "webm"
    assert sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01matroska").format == "mkv"
    assert sniff(b"RIFF\x00\x00\x00\x00AVI LIST").format == "avi"


def test_probe_reads_duration_rate_rotation_codec_and_audio(tmp_path: Path) -> None:
    clip = pan_zoom_video(tmp_path / "r.mp4", seconds=2, size=(320, 180), fps=10, rotation=90)
    info = probe_video(str(clip), "r.mp4")
    assert (info.duration, info.fps, info.frame_count) == (pytest.approx(2.0, abs=0.05), 10.0, 20)
    assert (info.rotation, info.width, info.height, info.codec, info.has_audio) == (90, 180, 320, "h264", True)


def test_probe_names_audio_only_and_truncated_files(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMediaType, match="no video stream"):
        probe_video(str(audio_only_mp4(tmp_path / "a.mp4")), "a.mp4")
    clip = pan_zoom_video(tmp_path / "v.mp4", seconds=2, size=(64, 36), audio=False)
    with pytest.raises(CorruptMedia):
        probe_video(str(truncated(clip, tmp_path / "t.mp4")), "t.mp4")


def test_probe_names_a_codec_it_cannot_decode(tmp_path: Path) -> None:
    clip = unknown_codec_mkv(tmp_path / "camera.mkv")
    assert sniff(clip.read_bytes()[:64]).kind == "video"  # a real Matroska container
    with pytest.raises(UnsupportedMediaType, match=r"camera\.mkv uses a video codec MediaFlow has no decoder for"):
        probe_video(str(clip), "camera.mkv")


def test_probe_names_a_zero_duration_video(tmp_path: Path) -> None:
    with pytest.raises(EmptyMedia):
        probe_video(str(zero_duration_mp4(tmp_path / "z.mp4")), "z.mp4")


def test_sample_times_cover_the_duration() -> None:
    assert sample_times(10.0, 1) == [float(k) for k in range(10)]
    assert len(sample_times(10.5, 1)) == 11
    assert sample_times(2.0, 2) == [0.0, 0.5, 1.0, 1.5]
    assert sample_times(0.2, 1) == [0.0]


@pytest.mark.parametrize("gop", [250, 25, 1], ids=["default-gop", "one-second-gop", "all-intra"])
def test_frames_come_from_the_exact_seconds(tmp_path: Path, gop: int) -> None:
    clip = _numbered_clip(tmp_path / "n.mp4", seconds=10, fps=25, gop=gop)
    frames = list(sample_frames(str(clip), 1.0, 10.0))
    assert [f.time for f in frames] == pytest.approx([float(k) for k in range(10)], abs=1e-6)
    # Frame k*25 was painted grey level k*25 (encoding shifts levels by a little).
    assert [int(f.image.mean()) for f in frames] == pytest.approx([k * 25 for k in range(10)], abs=3)


def test_sampled_frames_are_upright(tmp_path: Path) -> None:
    clip = pan_zoom_video(tmp_path / "r.mp4", seconds=1, size=(320, 180), fps=10, rotation=90, audio=False)
    (frame,) = list(sample_frames(str(clip), 1.0, 1.0))
    assert frame.image.shape == (320, 180, 3)


def test_camera_like_sample_clips_carry_grain_at_the_requested_bitrate(tmp_path: Path) -> None:
    """bench/bench_frames.py's camera clips: grain plus a target bitrate instead of CRF 23."""
    seconds, bitrate = 2, 1_000_000
    camera = pan_zoom_video(tmp_path / "c.mp4", seconds, (320, 180), audio=False, noise=3.0, bitrate=bitrate)
    plain = pan_zoom_video(tmp_path / "p.mp4", seconds, (320, 180), audio=False)
    measured = camera.stat().st_size * 8 / seconds
    assert 0.6 * bitrate < measured < 1.4 * bitrate
    assert plain.stat().st_size * 3 < camera.stat().st_size  # the smooth pan at CRF 23 is far smaller


def test_probe_names_a_video_whose_index_promises_more_than_its_data(tmp_path: Path) -> None:
    """The bug: a moov-first MP4 cut short passed Validate and failed in ExtractFrames with
    FFmpeg's InvalidDataError (and the temporary file's path in the message)."""
    clip = pan_zoom_video(tmp_path / "walk.mp4", seconds=6, size=(160, 90), audio=False)
    cut = truncated_with_index(clip, tmp_path / "cut.mp4")
    assert probe_video(str(faststart(clip, tmp_path / "whole.mp4")), "whole.mp4").duration == pytest.approx(6, abs=0.1)
    with pytest.raises(CorruptMedia, match=r"cut.mp4 is (truncated|damaged)") as raised:
        probe_video(str(cut), "cut.mp4")
    assert str(tmp_path) not in str(raised.value), "no temporary paths in what users read"


def test_the_decoder_gets_the_vcpus_the_functions_memory_buys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lambda gives one vCPU per 1,769 MB; outside Lambda every core is the decoder's."""
    for memory, threads in (("128", 1), ("2048", 1), ("3538", 2), ("10240", 5)):
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory)
        assert decode_threads() == threads
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    assert decode_threads() == (os.cpu_count() or 1)
