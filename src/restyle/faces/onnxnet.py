"""dlib's face-embedding ResNet as an ONNX graph: built from the parsed ``.dat``, cached, run on onnxruntime.

The graph takes a batch of aligned 150x150 RGB chips as uint8 ``(N, 150, 150, 3)`` and returns
``(N, 128)`` float32 embeddings. It does what dlib's ``input_rgb_image_sized`` does first
(subtract the per-channel means stored in the file, divide by 256), folds each ``affine`` layer
into the convolution before it, and zero-pads both operands of an ``add_prev`` to the larger shape,
as dlib's tensor addition does when a strided block and its shortcut differ in size.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from restyle.faces.dlibnet import DlibNet, Layer, read_net, resnet_layout

log = logging.getLogger(__name__)

CONVERTER_VERSION = 1  # part of the cache file name: bump when the graph built changes
_OPSET = 17
_IR_VERSION = 8

Shape = tuple[int, int, int]  # channels, rows, columns


class _Graph:
    """The nodes and initialisers of the graph under construction, and each tensor's static shape."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, hint: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], **attrs: Any) -> str:
        from onnx import helper

        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out


def _out_side(side: int, size: int, stride: int, pad: int) -> int:
    return (side + 2 * pad - size) // stride + 1


def _conv(g: _Graph, x: str, shape: Shape, con: Layer, affine: Layer | None) -> tuple[str, Shape]:
    filters, size, stride, pad_y, pad_x = con.args
    w = con.weights["w"].astype(np.float64)
    b = con.weights.get("b", np.zeros(filters, np.float32)).astype(np.float64)
    if affine is not None and affine.kind == "affine":
        scale, shift = (affine.weights[k].astype(np.float64) for k in ("scale", "shift"))
        w, b = w * scale[:, None, None, None], b * scale + shift
    out = g.node(
        "Conv",
        [x, g.const("w", w.astype(np.float32)), g.const("b", b.astype(np.float32))],
        kernel_shape=[size, size], strides=[stride, stride], pads=[pad_y, pad_x, pad_y, pad_x],
    )
    return out, (filters, _out_side(shape[1], size, stride, pad_y), _out_side(shape[2], size, stride, pad_x))


def _padded(g: _Graph, x: str, shape: Shape, target: Shape) -> str:
    if shape == target:
        return x
    extra = [0, target[0] - shape[0], target[1] - shape[1], target[2] - shape[2]]
    return g.node("Pad", [x, g.const("pads", np.array([0, 0, 0, 0, *extra], np.int64))], mode="constant")


def _body(g: _Graph, net: DlibNet, x: str) -> str:
    """The layers after the input scaling, in order; returns the embedding tensor's name."""
    shape: Shape = (3, *net.size)
    tags: dict[int, tuple[str, Shape]] = {}
    layers, i = net.layers, 0
    while i < len(layers):
        layer = layers[i]
        kind = layer.kind
        if kind == "con":
            follower = layers[i + 1] if i + 1 < len(layers) else None
            fold = follower if follower is not None and follower.kind in ("affine", "identity") else None
            x, shape = _conv(g, x, shape, layer, fold)
            i += 1 if fold is not None else 0
        elif kind == "affine":
            c = shape[0]
            x = g.node("Mul", [x, g.const("scale", layer.weights["scale"].reshape(1, c, 1, 1))])
            x = g.node("Add", [x, g.const("shift", layer.weights["shift"].reshape(1, c, 1, 1))])
        elif kind == "relu":
            x = g.node("Relu", [x])
        elif kind in ("max_pool", "avg_pool"):
            size, stride, pad_y, pad_x = layer.args
            op = "MaxPool" if kind == "max_pool" else "AveragePool"
            x = g.node(op, [x], kernel_shape=[size, size], strides=[stride, stride],
                       pads=[pad_y, pad_x, pad_y, pad_x])
            shape = (shape[0], _out_side(shape[1], size, stride, pad_y), _out_side(shape[2], size, stride, pad_x))
        elif kind == "avg_pool_everything":
            x = g.node("GlobalAveragePool", [x])
            shape = (shape[0], 1, 1)
        elif kind == "tag":
            tags[layer.args[0]] = (x, shape)
        elif kind == "skip":
            x, shape = tags[layer.args[0]]
        elif kind == "add_prev":
            other, other_shape = tags[layer.args[0]]
            target: Shape = (
                max(shape[0], other_shape[0]), max(shape[1], other_shape[1]), max(shape[2], other_shape[2])
            )
            x = g.node("Add", [_padded(g, x, shape, target), _padded(g, other, other_shape, target)])
            shape = target
        elif kind == "fc":
            flat = g.node("Flatten", [x], axis=1)
            x = g.node("MatMul", [flat, g.const("fc", layer.weights["w"])])
        i += 1
    return x


def build_model(net: DlibNet) -> Any:
    """The ONNX ``ModelProto`` of ``net``: uint8 chips ``(N, rows, cols, 3)`` in, ``(N, 128)`` out."""
    from onnx import TensorProto, checker, helper

    g = _Graph()
    x = g.node("Cast", ["chips"], to=TensorProto.FLOAT)
    x = g.node("Sub", [x, g.const("means", np.array(net.means, np.float32).reshape(1, 1, 1, 3))])
    x = g.node("Mul", [x, g.const("inv256", np.array(1.0 / 256.0, np.float32))])
    x = g.node("Transpose", [x], perm=[0, 3, 1, 2])
    out = _body(g, net, x)
    g.nodes.append(helper.make_node("Identity", [out], ["embeddings"]))
    rows, cols = net.size
    graph = helper.make_graph(
        g.nodes,
        "dlib_face_recognition_resnet",
        [helper.make_tensor_value_info("chips", TensorProto.UINT8, ["n", rows, cols, 3])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["n", None])],
        initializer=g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)], producer_name="restyle")
    model.ir_version = _IR_VERSION
    checker.check_model(model)
    return model


def convert(dat_path: str) -> bytes:
    """The serialized ONNX model of the dlib ResNet stored in ``dat_path``."""
    net = read_net(Path(dat_path).read_bytes(), resnet_layout())
    data: bytes = build_model(net).SerializeToString()
    return data


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/restyle`` (``~/.cache/restyle`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "restyle"


def _fingerprint(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def cached_model(dat_path: str, folder: Path | None = None) -> bytes:
    """The converted model of ``dat_path``, read from the cache or built once and stored atomically.

    The cache file is named after the ``.dat`` file's hash and the converter version, so a new
    model or converter never reuses a stale graph. An unwritable cache only costs the rebuild.
    """
    folder = folder if folder is not None else cache_dir()
    target = folder / f"dlib_resnet_{_fingerprint(dat_path)}_v{CONVERTER_VERSION}.onnx"
    if target.is_file():
        return target.read_bytes()
    data = convert(dat_path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".dlib_resnet_", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, target)  # atomic: readers see no file or the whole file
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
    except OSError as exc:
        log.warning("The converted face embedder could not be cached in %s (%s); it is rebuilt per process.",
                    folder, exc)
    return data
