"""Every environment variable a MediaFlow function reads: its name, its type and its default.

template.yaml sets them (Globals, and each function's Environment). Each default equals the
template parameter it comes from (tests/unit/test_contract.py checks), so a handler run
outside Lambda (unit tests, benchmarks) behaves as deployed. A sandbox's environment never
changes, so the settings are read once per process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from functools import cache
from typing import Any


def _env(name: str, parameter: str | None = None, **kwargs: Any) -> Any:
    """A setting read from environment variable `name`, set from template `parameter`."""
    return field(metadata={"env": name, "parameter": parameter}, **kwargs)


@dataclass(frozen=True)
class Settings:
    # Where things live (Globals).
    media_bucket: str = _env("MEDIA_BUCKET", default="")
    upload_prefix: str = _env("UPLOAD_PREFIX", "UploadPrefix", default="uploads/")
    output_prefix: str = _env("OUTPUT_PREFIX", "OutputPrefix", default="outputs/")
    work_prefix: str = _env("WORK_PREFIX", "WorkPrefix", default="work/")
    jobs_table: str = _env("JOBS_TABLE", default="")
    state_machine_arn: str = _env("STATE_MACHINE_ARN", default="")  # the status API starts reprocess attempts
    console_url_prefix: str = _env("CONSOLE_URL_PREFIX", default="")
    allowed_origin: str = _env("ALLOWED_ORIGIN", default="*")  # the status page's origin (CORS)
    # Limits (Validate, the status API's presigned uploads).
    max_image_bytes: int = _env("MAX_IMAGE_BYTES", "MaxImageBytes", default=52428800)
    max_video_bytes: int = _env("MAX_VIDEO_BYTES", "MaxVideoBytes", default=21474836480)
    max_image_pixels: int = _env("MAX_IMAGE_PIXELS", "MaxImagePixels", default=50000000)
    max_video_seconds: int = _env("MAX_VIDEO_SECONDS", "MaxVideoSeconds", default=14400)
    include_gps: bool = _env("INCLUDE_GPS", "IncludeGps", default=False)
    # Renditions (TransformImage).
    rendition_widths: tuple[int, ...] = _env("RENDITION_WIDTHS", "RenditionWidths", default=(320, 640, 1280))
    rendition_formats: tuple[str, ...] = _env("RENDITION_FORMATS", "RenditionFormats", default=("jpeg", "webp"))
    image_filters: tuple[str, ...] = _env("IMAGE_FILTERS", "ImageFilters", default=())
    jpeg_quality: int = _env("JPEG_QUALITY", "JpegQuality", default=82)
    webp_quality: int = _env("WEBP_QUALITY", "WebpQuality", default=80)
    webp_method: int = _env("WEBP_METHOD", "WebpMethod", default=2)
    # Video sampling and fan-out (ExtractFrames).
    frame_sample_rate: float = _env("FRAME_SAMPLE_RATE", "FrameSampleRate", default=1.0)
    frame_max_width: int = _env("FRAME_MAX_WIDTH", default=1280)
    segment_seconds: int = _env("SEGMENT_SECONDS", "SegmentSeconds", default=300)
    min_segment_seconds: int = _env("MIN_SEGMENT_SECONDS", "MinSegmentSeconds", default=120)
    segment_max_concurrency: int = _env("SEGMENT_MAX_CONCURRENCY", "SegmentMaxConcurrency", default=50)
    inline_map_max_segments: int = _env("INLINE_MAP_MAX_SEGMENTS", "InlineMapMaxSegments", default=8)
    frames_per_batch: int = _env("FRAMES_PER_BATCH", "FramesPerBatch", default=10)
    detect_max_concurrency: int = _env("DETECT_MAX_CONCURRENCY", "DetectMaxConcurrency", default=10)
    # Detection (DetectObjects).
    detection_backend: str = _env("DETECTION_BACKEND", "DetectionBackend", default="nanodet")
    detection_model_s3_uri: str = _env("DETECTION_MODEL_S3_URI", "DetectionModelS3Uri", default="")
    detection_min_confidence: float = _env("DETECTION_MIN_CONFIDENCE", "DetectionMinConfidence", default=0.45)
    detection_threads: int = _env("DETECTION_THREADS", default=0)  # 0: the sandbox's vCPUs
    detection_input_width: int = _env("DETECTION_INPUT_WIDTH", "DetectionInputWidth", default=416)
    text_detection: bool = _env("TEXT_DETECTION", "TextDetection", default=True)

    def with_overrides(self, overrides: dict[str, str] | None) -> Settings:
        """These settings with some template parameters replaced (a reprocess's own values)."""
        if not overrides:
            return self
        by_parameter = {f.metadata["parameter"]: f for f in fields(self) if f.metadata["parameter"]}
        unknown = sorted(set(overrides) - set(by_parameter))
        if unknown:
            raise ValueError(f"no setting for template parameter(s) {', '.join(unknown)}")
        changes = {
            by_parameter[name].name: _parse(value, by_parameter[name].default, by_parameter[name].metadata["env"])
            for name, value in overrides.items()
        }
        return replace(self, **changes)

    def max_bytes(self, kind: str) -> int:
        """The byte limit for a kind of media ("image" or "video")."""
        return self.max_video_bytes if kind == "video" else self.max_image_bytes

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Settings:
        environ = dict(os.environ if environ is None else environ)
        values = {}
        for setting in fields(cls):
            raw = environ.get(setting.metadata["env"])
            if raw is not None:
                values[setting.name] = _parse(raw, setting.default, setting.metadata["env"])
        return cls(**values)


def _parse(raw: str, default: Any, name: str) -> Any:
    """`raw` as the type of the setting's default."""
    try:
        if isinstance(default, bool):
            return raw.strip().lower() == "true"
        if isinstance(default, tuple):
            items = [item.strip() for item in raw.split(",") if item.strip()]
            return tuple(int(item) for item in items) if default and isinstance(default[0], int) else tuple(items)
        return type(default)(raw)
    except ValueError as err:
        raise RuntimeError(f"environment variable {name}={raw!r} is not a valid {type(default).__name__}") from err


@cache
def settings() -> Settings:
    """This process's settings (tests that change the environment call settings.cache_clear())."""
    return Settings.from_environment()
