"""Detection backends: the bundled face detector on real photographs, a user ONNX model, Rekognition."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import onnx
import pytest
from botocore.stub import Stubber
from detectors import MODELS_DIR, CenterFaceDetector, OnnxYoloDetector, RekognitionDetector, nms
from onnx import TensorProto, helper
from PIL import Image

from mediaflow.samples import portrait_with_orientation_6, skimage_data


@pytest.fixture(scope="module")
def centerface() -> CenterFaceDetector:
    return CenterFaceDetector(MODELS_DIR / "centerface.onnx", min_confidence=0.5)


def _photo(name: str) -> np.ndarray:
    return np.asarray(Image.open(skimage_data() / name).convert("RGB"))


def test_finds_the_face_in_a_real_photograph(centerface: CenterFaceDetector) -> None:
    (face,) = centerface.detect(_photo("astronaut.png"))
    assert face.label == "face" and face.confidence > 0.8
    # Eileen Collins' face is in the upper middle of the 512x512 photo.
    assert 0.3 < face.box.left < 0.4 and 0.05 < face.box.top < 0.2
    assert 0.1 < face.box.width < 0.25 and 0.15 < face.box.height < 0.3


def test_finds_the_face_in_the_upright_portrait(centerface: CenterFaceDetector) -> None:
    _, upright = portrait_with_orientation_6()
    (face,) = centerface.detect(np.asarray(upright))
    assert face.box.top < 0.3


@pytest.mark.parametrize("name", ["coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png"])
def test_no_faces_where_there_are_none(centerface: CenterFaceDetector, name: str) -> None:
    assert centerface.detect(_photo(name)) == []


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], dtype=float)
    assert nms(boxes, np.array([0.6, 0.9, 0.8]), 0.3) == [1, 2]


def _fixed_output_yolo(path: Path, anchors: np.ndarray) -> Path:
    """A tiny ONNX model in YOLOv8 export shape: input [1,3,64,64], output [1, 4+classes, N].

    Its output is the constant `anchors` whatever the input: the test controls what the
    'network' sees, so the decoding, thresholds, NMS and coordinate conversion are checked."""
    image = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])
    output = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(anchors.shape))
    constant = helper.make_tensor("anchors", TensorProto.FLOAT, list(anchors.shape), anchors.flatten().tolist())
    # output = anchors + 0 * mean(images): keeps the input connected to the graph.
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["anchors", "nothing"], ["output0"]),
    ]
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])
    graph = helper.make_graph(nodes, "tiny-yolo", [image], [output], initializer=[constant, zero])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_onnx_backend_decodes_a_yolo_style_model(tmp_path: Path) -> None:
    # 3 anchors, 2 classes (person, dog): two overlapping persons and one dog below the threshold.
    anchors = np.array(
        [
            [
                [16, 17, 48],  # cx
                [16, 16, 48],  # cy
                [16, 16, 8],  # w
                [32, 32, 8],  # h
                [0.9, 0.7, 0.1],  # person
                [0.05, 0.1, 0.3],  # dog
            ]
        ],
        dtype=np.float32,
    )
    detector = OnnxYoloDetector(_fixed_output_yolo(tmp_path / "tiny.onnx", anchors), ["person", "dog"], 0.5)
    (person,) = detector.detect(np.zeros((480, 640, 3), np.uint8))
    assert person.label == "person" and person.confidence == pytest.approx(0.9)
    assert (person.box.left, person.box.top, person.box.width, person.box.height) == pytest.approx(
        (8 / 64, 0.0, 16 / 64, 32 / 64)
    )


def test_rekognition_backend_maps_instances_to_detections() -> None:
    import boto3

    client = boto3.client("rekognition", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    response = {
        "Labels": [
            {
                "Name": "Person",
                "Confidence": 99.1,
                "Instances": [
                    {"BoundingBox": {"Width": 0.2, "Height": 0.5, "Left": 0.1, "Top": 0.2}, "Confidence": 98.5}
                ],
            },
            {"Name": "Outdoors", "Confidence": 90.0, "Instances": []},
        ]
    }
    with Stubber(client) as stubber:
        stubber.add_response(
            "detect_labels", response, {"Image": {"Bytes": stubber_any_bytes()}, "MaxLabels": 50, "MinConfidence": 60.0}
        )
        (person,) = RekognitionDetector(client, min_confidence=0.6).detect(np.zeros((32, 32, 3), np.uint8))
    assert person.label == "person" and person.confidence == pytest.approx(0.985)
    assert (person.box.left, person.box.top, person.box.width, person.box.height) == (0.1, 0.2, 0.2, 0.5)


def stubber_any_bytes() -> object:
    from botocore.stub import ANY

    return ANY


def test_detections_serialise_compactly() -> None:
    (face,) = CenterFaceDetector(MODELS_DIR / "centerface.onnx", 0.5).detect(_photo("astronaut.png"))
    data = face.as_dict()
    assert set(data) == {"label", "confidence", "box"} and set(data["box"]) == {"left", "top", "width", "height"}
    assert len(io.StringIO(str(data)).getvalue()) < 200
