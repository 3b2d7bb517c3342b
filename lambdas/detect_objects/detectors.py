"""Object detection backends behind one small interface.

Every backend takes an upright RGB image (numpy array) and returns detections: a label, a
confidence in [0, 1] and a box in coordinates relative to the image (0..1), so results do
not depend on the resolution a backend works at.

- `nanodet` (default, offline): NanoDet, the 80 COCO classes (nanodet.py).
- `centerface` (offline): the CenterFace face detector (MIT, 7.3 MB ONNX).
  Speeds, accuracy and the choice of models: docs/detection.md and bench/bench_detect.py.
- `onnx`: a user-supplied YOLOv8-style detector (ONNX export) read from S3.
- `rekognition`: Amazon Rekognition DetectLabels (AWS only; instances with boxes).
"""

from __future__ import annotations

import io
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from inference import MODELS_DIR, Box, Detection, Detector, nms, onnx_session, relative_box, resized

from mediaflow_shared.contract.settings import settings


class CenterFaceDetector:
    """CenterFace: a heatmap of face centres plus per-cell box scale and offset, at 1/4 resolution."""

    name = "centerface"
    stride = 4

    def __init__(self, model_path: Path, min_confidence: float, input_width: int = 640) -> None:
        self.session = onnx_session(model_path)
        self.input_name = self.session.get_inputs()[0].name
        self.min_confidence = min_confidence
        self.input_width = input_width

    def detect(self, image: np.ndarray) -> list[Detection]:
        height, width = image.shape[:2]
        scale = min(1.0, self.input_width / width)
        # The network needs sides that are multiples of 32.
        in_w = max(32, round(width * scale / 32) * 32)
        in_h = max(32, round(height * scale / 32) * 32)
        bgr = resized(image, (in_w, in_h))[:, :, ::-1].astype(np.float32).transpose(2, 0, 1)[None]
        heatmap, box_scale, offset, _landmarks = self.session.run(None, {self.input_name: np.ascontiguousarray(bgr)})
        rows, cols = np.where(heatmap[0, 0] > self.min_confidence)
        if len(rows) == 0:
            return []
        box_h = np.exp(box_scale[0, 0, rows, cols]) * self.stride
        box_w = np.exp(box_scale[0, 1, rows, cols]) * self.stride
        centre_y = (rows + offset[0, 0, rows, cols] + 0.5) * self.stride
        centre_x = (cols + offset[0, 1, rows, cols] + 0.5) * self.stride
        boxes = np.stack([centre_x - box_w / 2, centre_y - box_h / 2, centre_x + box_w / 2, centre_y + box_h / 2], 1)
        scores = heatmap[0, 0, rows, cols]
        return [
            Detection("face", float(scores[i]), relative_box(*map(float, boxes[i]), in_w, in_h))
            for i in nms(boxes, scores, 0.3)
        ]


class OnnxYoloDetector:
    """A YOLOv8-style export: input [1, 3, H, W] RGB in 0..1 (the frame is resized to it),
    output [1, 4 + classes, anchors] of (cx, cy, w, h, class scores) in input pixels; the
    [1, anchors, 4 + classes] layout is accepted too."""

    name = "onnx"

    def __init__(self, model_path: Path, labels: list[str], min_confidence: float) -> None:
        self.session = onnx_session(model_path)
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        height, width = model_input.shape[2:4]
        self.input_size = (width if isinstance(width, int) else 640, height if isinstance(height, int) else 640)
        self.labels = labels
        self.min_confidence = min_confidence

    def _anchors_first(self, shape: tuple[int, ...]) -> bool:
        """[anchors, 4 + classes] rather than [4 + classes, anchors]? The labels say, if given;
        otherwise anchors (thousands) outnumber classes."""
        if self.labels:
            return shape[1] == 4 + len(self.labels) and shape[0] != 4 + len(self.labels)
        return shape[0] > shape[1]

    def detect(self, image: np.ndarray) -> list[Detection]:
        width, height = self.input_size
        tensor = (resized(image, (width, height)).astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
        output = np.asarray(self.session.run(None, {self.input_name: np.ascontiguousarray(tensor)})[0])[0]
        if self._anchors_first(output.shape):
            output = output.T
        class_scores = output[4:]
        best_class = class_scores.argmax(axis=0)
        best_score = class_scores.max(axis=0)
        candidates = np.where(best_score > self.min_confidence)[0]
        if len(candidates) == 0:
            return []
        cx, cy, w, h = (output[row, candidates] for row in range(4))
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
        scores = best_score[candidates]
        detections = []
        for k in nms(boxes, scores, 0.45):
            class_index = int(best_class[candidates[k]])
            label = self.labels[class_index] if class_index < len(self.labels) else f"class_{class_index}"
            detections.append(Detection(label, float(scores[k]), relative_box(*map(float, boxes[k]), width, height)))
        return detections


class RekognitionDetector:
    """Amazon Rekognition DetectLabels; only labels with instances (boxes) are detections."""

    name = "rekognition"

    def __init__(self, client: Any, min_confidence: float, max_labels: int = 50) -> None:
        self.client = client
        self.min_confidence = min_confidence
        self.max_labels = max_labels

    def detect(self, image: np.ndarray) -> list[Detection]:
        from PIL import Image

        out = io.BytesIO()
        Image.fromarray(image).save(out, "JPEG", quality=90)
        response = self.client.detect_labels(
            Image={"Bytes": out.getvalue()}, MaxLabels=self.max_labels, MinConfidence=self.min_confidence * 100
        )
        detections = []
        for label in response.get("Labels", []):
            for instance in label.get("Instances", []):
                box = instance["BoundingBox"]
                detections.append(
                    Detection(
                        label["Name"].lower(),
                        instance["Confidence"] / 100,
                        Box(box["Left"], box["Top"], box["Width"], box["Height"]),
                    )
                )
        return detections


def _download_model(uri: str) -> tuple[Path, list[str]]:
    """s3://bucket/key.onnx (+ optional key.onnx.labels.txt, one label per line) -> local files."""
    import boto3

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    s3 = boto3.client("s3")
    folder = Path(tempfile.mkdtemp(prefix="model-"))
    model = folder / Path(key).name
    s3.download_file(bucket, key, str(model))
    try:
        labels_text = s3.get_object(Bucket=bucket, Key=f"{key}.labels.txt")["Body"].read().decode()
        labels = [line.strip() for line in labels_text.splitlines() if line.strip()]
    except s3.exceptions.NoSuchKey:
        labels = []
    return model, labels


@cache
def detector_from_environment() -> Detector:
    """The backend template.yaml's DetectionBackend parameter chose (loaded once per sandbox)."""
    backend, min_confidence = settings().detection_backend, settings().detection_min_confidence
    if backend == "nanodet":
        from nanodet import NanoDetDetector

        return NanoDetDetector(MODELS_DIR / "nanodet.onnx", min_confidence, settings().detection_input_width)
    if backend == "centerface":
        return CenterFaceDetector(MODELS_DIR / "centerface.onnx", min_confidence)
    if backend == "onnx":
        model, labels = _download_model(settings().detection_model_s3_uri)
        return OnnxYoloDetector(model, labels, min_confidence)
    if backend == "rekognition":
        import boto3

        return RekognitionDetector(boto3.client("rekognition"), min_confidence)
    raise ValueError(f"unknown DETECTION_BACKEND {backend!r}")


@cache
def text_reader_from_environment() -> Any:
    """The text reader, when template.yaml's TextDetection parameter is on (loaded once per sandbox)."""
    if not settings().text_detection:
        return None
    from text import TextReader

    return TextReader(MODELS_DIR / "text_det.onnx", MODELS_DIR / "text_rec.onnx")
