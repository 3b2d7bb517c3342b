"""Milliseconds per 1280x720 frame for each detection backend, on real photographs.

Frames are real photographs (scikit-image's bundled data) scaled to 1280x720. Each backend
runs single-threaded in this process; the report is the median over frames and rounds.

- centerface (default): CenterFace on onnxruntime, as DetectObjects runs it.
- centerface via OpenCV DNN: the same model on cv2.dnn, the alternative we did not choose
  (slower here, and it would add ~150 MB of OpenCV to the function package).
- onnx: the YOLOv8-style decoding path with the tests' tiny constant model; it measures the
  backend's own overhead (resize, decode, NMS), not a real detector's network.
- rekognition: not measurable offline (one DetectLabels HTTPS call per frame).

    python bench/bench_detect.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "lambdas" / "detect_objects"), str(REPO)]

PHOTOS = ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png", "hubble_deep_field.jpg")


def frames() -> list[np.ndarray]:
    from mediaflow.samples import skimage_data

    return [np.asarray(Image.open(skimage_data() / name).convert("RGB").resize((1280, 720))) for name in PHOTOS]


def time_backend(detect, images: list[np.ndarray], rounds: int = 3) -> float:  # type: ignore[no-untyped-def]
    detect(images[0])  # warm-up: session initialisation
    samples = []
    for _ in range(rounds):
        for image in images:
            start = time.perf_counter()
            detect(image)
            samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def opencv_dnn_centerface(model: Path):  # type: ignore[no-untyped-def]
    import cv2

    cv2.setNumThreads(1)
    net = cv2.dnn.readNetFromONNX(str(model))

    def detect(image: np.ndarray) -> object:
        resized = cv2.resize(image, (640, 352), interpolation=cv2.INTER_AREA)
        net.setInput(cv2.dnn.blobFromImage(resized[:, :, ::-1], 1.0, (640, 352), (0, 0, 0), swapRB=False))
        return net.forward(net.getUnconnectedOutLayersNames())

    return detect


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    os.environ["DETECTION_THREADS"] = "1"
    from detectors import MODELS_DIR, CenterFaceDetector, OnnxYoloDetector

    from tests.unit.test_detectors import _fixed_output_yolo

    images = frames()
    centerface = CenterFaceDetector(MODELS_DIR / "centerface.onnx", 0.5)
    faces = [len(centerface.detect(image)) for image in images]
    results = {
        "centerface (onnxruntime, default)": time_backend(centerface.detect, images),
        "centerface (OpenCV DNN, not chosen)": time_backend(
            opencv_dnn_centerface(MODELS_DIR / "centerface.onnx"), images
        ),
    }
    with tempfile.TemporaryDirectory() as tmp:
        # A YOLOv8n-shaped output: 8400 anchors, 80 classes, low scores everywhere but 30 objects.
        rng = np.random.default_rng(1)
        anchors = np.zeros((1, 84, 8400), dtype=np.float32)
        anchors[0, 0:2] = rng.random((2, 8400)) * 64
        anchors[0, 2:4] = rng.random((2, 8400)) * 16 + 4
        anchors[0, 4:] = rng.random((80, 8400)) * 0.05
        for anchor in rng.choice(8400, 30, replace=False):
            anchors[0, 4 + rng.integers(80), anchor] = 0.9
        model = _fixed_output_yolo(Path(tmp) / "tiny.onnx", anchors)
        yolo = OnnxYoloDetector(model, [f"class_{i}" for i in range(80)], 0.3)
        results["onnx backend overhead (8400 anchors, 80 classes)"] = time_backend(yolo.detect, images)
    print("Detection on 1280x720 frames made from real photographs, one thread, median ms per frame")
    for name, ms in results.items():
        print(f"  {name:<52}{ms:7.1f} ms")
    print("  rekognition                                         n/a (network call; not measurable offline)")
    print(f"  faces found per photo: {dict(zip(PHOTOS, faces, strict=True))}")
    ratio = results["centerface (OpenCV DNN, not chosen)"] / results["centerface (onnxruntime, default)"]
    print(f"  onnxruntime vs OpenCV DNN on CenterFace: {ratio:.2f}x")


if __name__ == "__main__":
    main()
