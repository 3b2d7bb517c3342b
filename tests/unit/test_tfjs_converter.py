"""scripts/tfjs_graph_to_onnx.py: a TF.js graph model becomes an ONNX model that computes the same.

Each case writes a small TF.js graph model (model.json + float16-quantised weight shard, as
the npm package ships NanoDet) and checks onnxruntime's output against numpy doing what
TensorFlow's ops are documented to do.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from tfjs_graph_to_onnx import UnsupportedGraph, convert

RNG = np.random.default_rng(7)


def _const(name: str) -> dict[str, Any]:
    return {"name": name, "op": "Const", "attr": {}}


def _op(name: str, op: str, inputs: list[str], **attr: Any) -> dict[str, Any]:
    return {"name": name, "op": op, "input": inputs, "attr": attr}


def _conv_attr(stride: int = 1) -> dict[str, Any]:
    return {
        "padding": {"s": base64.b64encode(b"VALID").decode()},
        "data_format": {"s": base64.b64encode(b"NHWC").decode()},
        "strides": {"list": {"i": ["1", str(stride), str(stride), "1"]}},
        "dilations": {"list": {"i": ["1", "1", "1", "1"]}},
    }


def _write_model(folder: Path, nodes: list[dict[str, Any]], weights: dict[str, np.ndarray]) -> Path:
    manifest, data = [], b""
    for name, value in weights.items():
        if value.dtype == np.float32:
            manifest.append(
                {
                    "name": name,
                    "shape": list(value.shape),
                    "dtype": "float32",
                    "quantization": {"dtype": "float16", "original_dtype": "float32"},
                }
            )
            data += value.astype(np.float16).tobytes()
        else:
            manifest.append({"name": name, "shape": list(value.shape), "dtype": "int32"})
            data += value.astype(np.int32).tobytes()
    (folder / "weights.bin").write_bytes(data)
    model = {
        "format": "graph-model",
        "modelTopology": {"node": nodes},
        "weightsManifest": [{"paths": ["weights.bin"], "weights": manifest}],
    }
    path = folder / "model.json"
    path.write_text(json.dumps(model))
    return path


def _run(model_json: Path, outputs: dict[str, str], x: np.ndarray) -> list[np.ndarray]:
    model = convert(model_json, outputs)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})


def _placeholder(shape: list[int]) -> dict[str, Any]:
    return _op("input", "Placeholder", [], shape={"shape": {"dim": [{"size": str(d)} for d in shape]}})


def _conv_nhwc(x: np.ndarray, kernel: np.ndarray, stride: int = 1) -> np.ndarray:
    """TensorFlow's Conv2D, VALID padding, grouped when the kernel's depth divides the input's."""
    kh, kw, per_group, out_channels = kernel.shape
    groups = x.shape[3] // per_group
    out_h, out_w = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], out_h, out_w, out_channels), np.float32)
    per_out = out_channels // groups
    for o in range(out_channels):
        g = o // per_out
        for i in range(out_h):
            for j in range(out_w):
                patch = x[
                    :, i * stride : i * stride + kh, j * stride : j * stride + kw, g * per_group : (g + 1) * per_group
                ]
                out[:, i, j, o] = (patch * kernel[:, :, :, o]).sum(axis=(1, 2, 3))
    return out


def test_padded_grouped_convolution_with_bias_and_leaky_relu(tmp_path: Path) -> None:
    """The export's pattern: NCHW pad, transpose to NHWC, convolve, add bias, transpose back."""
    kernel = RNG.normal(size=(3, 3, 2, 4)).astype(np.float32)  # 4 input channels in 2 groups
    bias = RNG.normal(size=(4,)).astype(np.float32)
    weights = {
        "paddings": np.array([[0, 0], [0, 0], [1, 1], [1, 1]]),
        "to_nhwc": np.array([0, 2, 3, 1]),
        "to_nchw": np.array([0, 3, 1, 2]),
        "kernel": kernel,
        "bias": bias,
    }
    nodes = [
        _placeholder([1, 4, 6, 6]),
        *(_const(name) for name in weights),
        _op("pad", "Pad", ["input", "paddings"]),
        _op("nhwc", "Transpose", ["pad", "to_nhwc"]),
        _op("conv", "Conv2D", ["nhwc", "kernel"], **_conv_attr()),
        _op("biased", "Add", ["conv", "bias"]),
        _op("nchw", "Transpose", ["biased", "to_nchw"]),
        _op("act", "LeakyRelu", ["nchw"], alpha={"f": 0.1}),
        _op("Identity", "Identity", ["act"]),
    ]
    x = RNG.normal(size=(1, 4, 6, 6)).astype(np.float32)
    (got,) = _run(_write_model(tmp_path, nodes, weights), {"Identity": "out"}, x)

    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))).transpose(0, 2, 3, 1)
    kernel16 = kernel.astype(np.float16).astype(np.float32)  # the weights as stored
    expected = _conv_nhwc(padded, kernel16) + bias.astype(np.float16).astype(np.float32)
    expected = expected.transpose(0, 3, 1, 2)
    expected = np.where(expected > 0, expected, 0.1 * expected)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_split_concat_resize_pool_and_reshape(tmp_path: Path) -> None:
    weights = {
        "to_nhwc": np.array([0, 2, 3, 1]),
        "sizes": np.array([2, 2]),
        "axis": np.array(3),
        "size": np.array([8, 8]),
        "shape": np.array([1, -1, 2]),
        "pool_pad": np.array([[0, 0], [0, 0], [1, 1], [1, 1]]),
        "minus_inf": np.array(-1000.0, np.float32),
    }
    pool_attr = {
        "ksize": {"list": {"i": ["1", "3", "3", "1"]}},
        "strides": {"list": {"i": ["1", "2", "2", "1"]}},
        "padding": {"s": base64.b64encode(b"VALID").decode()},
    }
    nodes = [
        _placeholder([1, 4, 4, 4]),
        *(_const(name) for name in weights),
        _op("padded", "PadV2", ["input", "pool_pad", "minus_inf"]),
        _op("nhwc", "Transpose", ["padded", "to_nhwc"]),
        _op("pooled", "MaxPool", ["nhwc"], **pool_attr),
        _op("split", "SplitV", ["pooled", "sizes", "axis"], num_split={"i": "2"}),
        _op("sig", "Sigmoid", ["split:1"]),
        _op("joined", "ConcatV2", ["sig", "split", "axis"]),
        _op("big", "ResizeBilinear", ["joined", "size"], half_pixel_centers={"b": True}),
        _op("flat", "Reshape", ["big", "shape"]),
        _op("Identity", "Identity", ["flat"]),
    ]
    x = RNG.normal(size=(1, 4, 4, 4)).astype(np.float32)
    (got,) = _run(_write_model(tmp_path, nodes, weights), {"Identity": "out"}, x)

    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-1000).transpose(0, 2, 3, 1)
    pooled = np.stack(
        [
            np.stack([padded[0, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].max(axis=(0, 1)) for j in range(2)])
            for i in range(2)
        ]
    )[None]
    joined = np.concatenate([1 / (1 + np.exp(-pooled[..., 2:])), pooled[..., :2]], axis=3)
    # Half-pixel bilinear 2x2 -> 8x8: source coordinate (i + 0.5) / 4 - 0.5, clamped.
    coords = np.clip((np.arange(8) + 0.5) / 4 - 0.5, 0, 1)
    low, frac = np.floor(coords).astype(int), coords - np.floor(coords)
    high = np.minimum(low + 1, 1)
    rows = joined[:, low] * (1 - frac)[None, :, None, None] + joined[:, high] * frac[None, :, None, None]
    big = rows[:, :, low] * (1 - frac)[None, None, :, None] + rows[:, :, high] * frac[None, None, :, None]
    np.testing.assert_allclose(got, big.reshape(1, -1, 2), rtol=1e-5, atol=1e-5)


def test_an_unknown_op_is_refused_by_name(tmp_path: Path) -> None:
    nodes = [_placeholder([1, 3, 4, 4]), _op("odd", "Erf", ["input"]), _op("Identity", "Identity", ["odd"])]
    with pytest.raises(UnsupportedGraph, match="op Erf \\(node odd\\)"):
        convert(_write_model(tmp_path, nodes, {}), {"Identity": "out"})


def test_an_unknown_weight_encoding_is_refused(tmp_path: Path) -> None:
    path = _write_model(tmp_path, [_placeholder([1, 3, 4, 4]), _const("w")], {"w": np.ones(4, np.float32)})
    model = json.loads(path.read_text())
    model["weightsManifest"][0]["weights"][0]["quantization"] = {"dtype": "uint8", "scale": 1, "min": 0}
    path.write_text(json.dumps(model))
    with pytest.raises(UnsupportedGraph, match="uint8 quantisation"):
        convert(path, {})
