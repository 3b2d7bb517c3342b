"""Text in images and frames: PP-OCRv4 detection (DB) and recognition (CTC), run with onnxruntime.

The models are the ones the rapidocr-onnxruntime wheel ships (scripts/fetch_models.py). The
pipeline around them is written here rather than taken from rapidocr: rapidocr needs OpenCV
(160 MB unzipped), and onnxruntime + numpy + OpenCV pass Lambda's 250 MB package limit.
What rapidocr uses OpenCV for is done with numpy and Pillow instead: connected regions of the
detector's map are found by run-length union-find, and lines are read as axis-aligned boxes
(text in frames is overwhelmingly horizontal; a rotated line is read as its bounding box).

Lines and words come out in the shape of Amazon Rekognition's DetectText: DetectedText,
Type LINE or WORD, Id, ParentId (a word's line), Confidence 0..100, Geometry.BoundingBox
relative to the image.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from inference import onnx_session
from PIL import Image

DETECT_SIDE = 736  # the longer side, scaled up or down: rapidocr's size; 960 costs 2.4x for little more
MAX_UPSCALE = 2.0  # small images are enlarged for the detector, but a 64-pixel frame not 11x
BINARY_THRESHOLD = 0.3
MIN_REGION_SCORE = 0.5
UNCLIP_RATIO = 1.6  # DB's shrunk text kernels are grown back by area * ratio / perimeter
LINE_HEIGHT = 48  # the recogniser's input height
RECOGNITION_BATCH = 6


@dataclass(frozen=True)
class Region:
    left: float
    top: float
    right: float
    bottom: float
    score: float


def _runs(row: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate(([0], row.view(np.int8), [0]))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def text_regions(probability: np.ndarray) -> list[Region]:
    """Bounding boxes of the 8-connected regions above the threshold, with their mean probability."""
    binary = probability > BINARY_THRESHOLD
    binary[:-1] |= binary[1:]  # DB's 2x2 dilation: joins strokes split by a pixel
    binary[:, :-1] |= binary[:, 1:]
    parent: list[int] = []
    runs: list[tuple[int, int, int]] = []  # row, start, end

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    previous: list[int] = []
    for y in range(binary.shape[0]):
        current = []
        for start, end in _runs(binary[y]):
            index = len(runs)
            runs.append((y, start, end))
            parent.append(index)
            for other in previous:
                _, other_start, other_end = runs[other]
                if other_start <= end and start <= other_end:  # touching, diagonals included
                    parent[root(other)] = root(index)
            current.append(index)
        previous = current
    boxes: dict[int, list[float]] = {}
    for index, (y, start, end) in enumerate(runs):
        box = boxes.setdefault(root(index), [start, y, end, y + 1, 0.0, 0])
        box[0], box[1], box[2], box[3] = min(box[0], start), min(box[1], y), max(box[2], end), max(box[3], y + 1)
        box[4] += float(probability[y, start:end].sum())
        box[5] += end - start
    return [
        Region(left, top, right, bottom, total / count)
        for left, top, right, bottom, total, count in boxes.values()
        if min(right - left, bottom - top) >= 3 and total / count >= MIN_REGION_SCORE
    ]


def _unclipped(region: Region, width: int, height: int) -> tuple[float, float, float, float]:
    w, h = region.right - region.left, region.bottom - region.top
    grow = w * h * UNCLIP_RATIO / (2 * (w + h))
    return (
        max(0.0, region.left - grow),
        max(0.0, region.top - grow),
        min(width, region.right + grow),
        min(height, region.bottom + grow),
    )


def _normalised(pixels: np.ndarray) -> np.ndarray:
    """PaddleOCR's input: BGR, (x / 255 - 0.5) / 0.5, NCHW."""
    return (pixels[:, :, ::-1].astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)


def _box(left: float, top: float, right: float, bottom: float, width: int, height: int) -> dict[str, Any]:
    box = {
        "Width": (right - left) / width,
        "Height": (bottom - top) / height,
        "Left": left / width,
        "Top": top / height,
    }
    return {"BoundingBox": {k: round(v, 4) for k, v in box.items()}}


class TextReader:
    name = "pp-ocrv4"

    def __init__(self, detector_path: Path, recogniser_path: Path, min_confidence: float = 0.8) -> None:
        self.detector = onnx_session(detector_path)
        self.recogniser = onnx_session(recogniser_path)
        metadata = onnx.load(str(recogniser_path), load_external_data=False).metadata_props
        characters = next(p.value for p in metadata if p.key == "character").split("\n")
        self.alphabet = ["", *characters, " "]  # CTC blank first; the space class last, as PaddleOCR adds it
        self.min_confidence = min_confidence

    def lines(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Pixel boxes of the text lines, top to bottom, left to right."""
        height, width = image.shape[:2]
        scale = min(MAX_UPSCALE, DETECT_SIDE / max(width, height))
        in_w, in_h = (max(32, round(side * scale / 32) * 32) for side in (width, height))
        pixels = np.asarray(Image.fromarray(image).resize((in_w, in_h), Image.Resampling.BILINEAR))
        (probability,) = self.detector.run(None, {"x": _normalised(pixels)[None]})
        scale_x, scale_y = in_w / width, in_h / height
        boxes = []
        for region in text_regions(probability[0, 0]):
            left, top, right, bottom = _unclipped(region, in_w, in_h)
            boxes.append(
                (int(left / scale_x), int(top / scale_y), int(np.ceil(right / scale_x)), int(np.ceil(bottom / scale_y)))
            )
        return sorted(boxes, key=lambda b: (b[1] // max(1, (b[3] - b[1]) // 2), b[0]))

    def _recognise(self, crops: list[Image.Image]) -> list[tuple[str, float, list[tuple[str, float, float, float]]]]:
        """Per crop: its text, confidence, and words as (text, confidence, start, end) in 0..1 of the crop's width."""
        widths = [max(1, round(crop.width * LINE_HEIGHT / crop.height)) for crop in crops]
        batch_width = max(widths)
        batch = np.zeros((len(crops), 3, LINE_HEIGHT, batch_width), np.float32)
        for k, (crop, width) in enumerate(zip(crops, widths, strict=True)):
            batch[k, :, :, :width] = _normalised(np.asarray(crop.convert("RGB").resize((width, LINE_HEIGHT))))
        (probabilities,) = self.recogniser.run(None, {"x": batch})
        results = []
        for k, width in enumerate(widths):
            best, confidence = probabilities[k].argmax(1), probabilities[k].max(1)
            steps = len(best)
            kept = [t for t in range(steps) if best[t] != 0 and (t == 0 or best[t] != best[t - 1])]
            text = "".join(self.alphabet[best[t]] for t in kept)
            words, current = [], []
            for t in [*kept, None]:
                if t is None or self.alphabet[best[t]] == " ":
                    if current:
                        word = "".join(self.alphabet[best[s]] for s in current)
                        position = batch_width / width / steps  # crop-width fraction per time step
                        words.append(
                            (
                                word,
                                float(np.mean(confidence[current])),
                                max(0.0, current[0] * position),
                                min(1.0, (current[-1] + 1) * position),
                            )
                        )
                    current = []
                else:
                    current.append(t)
            results.append((text.strip(), float(np.mean(confidence[kept])) if kept else 0.0, words))
        return results

    def read(self, image: np.ndarray) -> list[dict[str, Any]]:
        """Rekognition-shaped TextDetections: each LINE followed by its WORDs."""
        height, width = image.shape[:2]
        boxes = self.lines(image)
        picture = Image.fromarray(image)
        detections: list[dict[str, Any]] = []
        order = sorted(range(len(boxes)), key=lambda k: (boxes[k][2] - boxes[k][0]) / max(1, boxes[k][3] - boxes[k][1]))
        read: dict[int, tuple[str, float, list[tuple[str, float, float, float]]]] = {}
        for first in range(0, len(order), RECOGNITION_BATCH):  # similar widths together: less padding
            chunk = order[first : first + RECOGNITION_BATCH]
            for k, result in zip(chunk, self._recognise([picture.crop(boxes[k]) for k in chunk]), strict=True):
                read[k] = result
        for k, (left, top, right, bottom) in enumerate(boxes):
            text, confidence, words = read[k]
            if not text or confidence < self.min_confidence:
                continue
            line_id = len(detections)
            detections.append(
                {
                    "DetectedText": text,
                    "Type": "LINE",
                    "Id": line_id,
                    "Confidence": round(confidence * 100, 2),
                    "Geometry": _box(left, top, right, bottom, width, height),
                }
            )
            for word, word_confidence, start, end in words:
                detections.append(
                    {
                        "DetectedText": word,
                        "Type": "WORD",
                        "Id": len(detections),
                        "ParentId": line_id,
                        "Confidence": round(word_confidence * 100, 2),
                        "Geometry": _box(
                            left + start * (right - left), top, left + end * (right - left), bottom, width, height
                        ),
                    }
                )
        return detections
