"""What every detection backend shares: the result types, box and NMS arithmetic, the ONNX
session and the resize. A module of its own so that the backends (detectors.py, nanodet.py,
text.py) import it rather than each other."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import onnxruntime as ort
from PIL import Image

from mediaflow_shared.contract.settings import settings
from mediaflow_shared.sandbox import vcpus

MODELS_DIR = Path(__file__).resolve().parent / "models"


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class Detection:
    label: str
    confidence: float
    box: Box

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["confidence"] = round(self.confidence, 4)
        data["box"] = {k: round(v, 4) for k, v in data["box"].items()}
        return data


class Detector(Protocol):
    name: str

    def detect(self, image: np.ndarray) -> list[Detection]: ...


def detect_all(detector: Detector, images: list[np.ndarray]) -> list[list[Detection]]:
    """Detections per image: in one batch where the backend takes batches (NanoDet), else one by one."""
    many = getattr(detector, "detect_many", None)
    return many(images) if many else [detector.detect(image) for image in images]


def relative_box(x1: float, y1: float, x2: float, y2: float, width: int, height: int) -> Box:
    x1, x2 = max(0.0, min(x1, width)), max(0.0, min(x2, width))
    y1, y2 = max(0.0, min(y1, height)), max(0.0, min(y2, height))
    return Box(x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height)


MAX_CANDIDATES = 1000  # best-scoring boxes considered by NMS (as YOLO post-processing does)
MAX_DETECTIONS = 300


def nms(boxes: np.ndarray, scores: np.ndarray, max_iou: float) -> list[int]:
    """Greedy non-maximum suppression on [x1, y1, x2, y2] boxes; indices kept, best first."""
    order = np.argsort(-scores)[:MAX_CANDIDATES]
    areas = np.maximum(0, boxes[:, 2] - boxes[:, 0]) * np.maximum(0, boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order.size and len(keep) < MAX_DETECTIONS:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        width = np.maximum(0, np.minimum(boxes[best, 2], boxes[rest, 2]) - np.maximum(boxes[best, 0], boxes[rest, 0]))
        height = np.maximum(0, np.minimum(boxes[best, 3], boxes[rest, 3]) - np.maximum(boxes[best, 1], boxes[rest, 1]))
        intersection = width * height
        overlap = intersection / np.maximum(areas[best] + areas[rest] - intersection, 1e-9)
        order = rest[overlap <= max_iou]
    return keep


def onnx_session(model_path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = settings().detection_threads or vcpus()
    options.log_severity_level = 3
    return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])


def resized(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (image.shape[1], image.shape[0]) == size:
        return image
    # reducing_gap: a box reduction by the whole factor first, then bilinear; 2.2x faster
    # than bilinear over the full 1280-pixel support, with the same detections on the evaluation set.
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR, reducing_gap=1.0))
