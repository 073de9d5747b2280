"""Reader of dlib's serialized DNNs (``dlib::serialize(net)``): the layers of a known network layout.

dlib writes a network from the loss layer inwards: the loss layer's details, then one version
number per layer on the way down (add_layer, tag, skip), then the input layer, then each layer's
details and its training buffers on the way back up, input side first. Tags, skips and the tag id
of ``add_prev`` are not in the bytes; they come from the layout (the network's C++ type).

Primitives: integers are packed (a control byte: low nibble = byte count, bit 7 = sign, then
little-endian bytes), ``bool`` is the character '1' or '0', strings are a packed length and bytes,
floats are packed (mantissa int64, exponent int16) pairs, and tensors are a version, four packed
dimensions and raw little-endian float32 data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from restyle.errors import ConfigurationError

# One step of a layout, input side first: ("con", filters, size, stride), ("affine",), ("relu",),
# ("max_pool", size, stride), ("avg_pool", size, stride), ("avg_pool_everything",),
# ("fc_no_bias", outputs), ("tag", id), ("skip", id), ("add_prev", id).
Step = tuple[object, ...]

_SPECIAL_EXPONENTS = {32000: np.inf, 32001: -np.inf, 32002: np.nan}


def _block(filters: int, stride: int) -> list[Step]:
    # block<N,affine,stride> = affine<con<N,3,3,1,1,relu<affine<con<N,3,3,stride,stride,SUBNET>>>>>
    return [("con", filters, 3, stride), ("affine",), ("relu",), ("con", filters, 3, 1), ("affine",)]


def _ares(filters: int) -> list[Step]:
    return [("tag", 1), *_block(filters, 1), ("add_prev", 1), ("relu",)]


def _ares_down(filters: int) -> list[Step]:
    # relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,affine,2,tag1<SUBNET>>>>>>>
    return [
        ("tag", 1), *_block(filters, 2), ("tag", 2), ("skip", 1), ("avg_pool", 2, 2), ("add_prev", 2), ("relu",),
    ]


def resnet_layout() -> list[Step]:
    """The layout of ``dlib_face_recognition_resnet_model_v1`` (dlib's ``anet_type``), input first."""
    steps: list[Step] = [("con", 32, 7, 2), ("affine",), ("relu",), ("max_pool", 3, 2)]
    steps += _ares(32) * 3
    steps += _ares_down(64) + _ares(64) * 3
    steps += _ares_down(128) + _ares(128) * 2
    steps += _ares_down(256) + _ares(256) * 2
    steps += _ares_down(256)
    steps += [("avg_pool_everything",), ("fc_no_bias", 128)]
    return steps


@dataclass
class Layer:
    """One parsed layer: its kind, the layout's integers and its weights (inference form)."""

    kind: str
    args: tuple[int, ...] = ()
    weights: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class DlibNet:
    """A parsed network: the input layer's per-channel means, its size, and the layers input first."""

    means: tuple[float, float, float]
    size: tuple[int, int]
    layers: list[Layer]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.pos = 0

    def fail(self, what: str) -> ConfigurationError:
        return ConfigurationError(
            f"The dlib network file is not in the expected format: {what} at byte {self.pos}.",
            code="faces.model_format",
        )

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise self.fail("unexpected end of file")
        value = self.data[self.pos]
        self.pos += 1
        return int(value)

    def integer(self) -> int:
        control = self.byte()
        size = control & 0x0F
        if size == 0 or size > 8 or self.pos + size > len(self.data):
            raise self.fail(f"bad integer control byte {control:#x}")
        value = int.from_bytes(self.data[self.pos : self.pos + size], "little")
        self.pos += size
        return -value if control & 0x80 else value

    def boolean(self) -> bool:
        char = self.byte()
        if char not in (ord("0"), ord("1")):
            raise self.fail(f"bad boolean byte {char:#x}")
        return char == ord("1")

    def real(self) -> float:
        mantissa, exponent = self.integer(), self.integer()
        if exponent in _SPECIAL_EXPONENTS:
            return float(_SPECIAL_EXPONENTS[exponent])
        return float(mantissa) * 2.0**exponent

    def string(self) -> str:
        size = self.integer()
        text = bytes(self.data[self.pos : self.pos + size]).decode("latin-1")
        self.pos += size
        return text

    def tensor(self) -> np.ndarray:
        if self.integer() != 2:
            raise self.fail("unsupported tensor version")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        end = self.pos + 4 * count
        if end > len(self.data):
            raise self.fail("tensor data past the end of file")
        values = np.frombuffer(self.data[self.pos : end], dtype="<f4").reshape(shape).astype(np.float32)
        self.pos = end
        return values

    def alias(self) -> tuple[int, int, int, int]:
        if self.integer() != 1:
            raise self.fail("unsupported alias_tensor version")
        n, k, nr, nc = (self.integer() for _ in range(4))
        return n, k, nr, nc

    def expect(self, *versions: str) -> str:
        version = self.string()
        if version not in versions:
            raise self.fail(f"layer {version!r} where the layout has {versions[0]!r}")
        return version


def _split(params: np.ndarray, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    flat, out, start = params.reshape(-1), [], 0
    for shape in shapes:
        count = int(np.prod(shape))
        out.append(flat[start : start + count].reshape(shape))
        start += count
    return out


def _con(r: _Reader, step: Step) -> Layer:
    version = r.expect("con_4", "con_5", "con_6")
    params = r.tensor()
    filters, nr, nc, stride_y, stride_x, pad_y, pad_x = (r.integer() for _ in range(7))
    w_shape, b_shape = r.alias(), r.alias()
    for _ in range(4):
        r.real()  # learning-rate and weight-decay multipliers
    use_bias = r.boolean() if version in ("con_5", "con_6") else True
    if version == "con_6":
        r.boolean()  # use_relu: a fused relu dlib only sets while training
    if (filters, nr, stride_y) != step[1:] or nr != nc or stride_x != stride_y:
        raise r.fail(f"convolution {filters} {nr}x{nc}/{stride_y} where the layout has {step[1:]}")
    weights = {"w": _split(params, w_shape)[0]}
    if use_bias:
        weights["b"] = _split(params, w_shape, b_shape)[1].reshape(-1)
    return Layer("con", (filters, nr, stride_y, pad_y, pad_x), weights)


def _affine(r: _Reader) -> Layer:
    version = r.expect("affine_", "affine_2", "bn_con2")
    if version == "bn_con2":
        # batch normalisation in inference form, as dlib's affine_(bn_) computes it
        params = r.tensor()
        g_shape, _ = r.alias(), r.alias()
        for _ in range(2):
            r.tensor()  # batch means and inverse deviations of the last training step
        running_means, running_vars = r.tensor().reshape(-1), r.tensor().reshape(-1)
        r.integer(), r.integer()  # num_updates, running_stats_window_size
        for _ in range(4):
            r.real()
        eps = r.real()
        gamma, beta = (p.reshape(-1) for p in _split(params, g_shape, g_shape))
        scale = gamma / np.sqrt(running_vars + np.float32(eps))
        return Layer("affine", (), {"scale": scale, "shift": beta - scale * running_means})
    params = r.tensor()
    g_shape, b_shape = r.alias(), r.alias()
    r.integer()  # mode (conv or fc)
    if version == "affine_2" and r.boolean():
        return Layer("identity")
    gamma, beta = (p.reshape(-1) for p in _split(params, g_shape, b_shape))
    return Layer("affine", (), {"scale": gamma, "shift": beta})


def _pool(r: _Reader, step: Step) -> Layer:
    kind = str(step[0])
    name = "avg_pool" if kind.startswith("avg") else "max_pool"
    r.expect(f"{name}_2")
    nr, nc, stride_y, stride_x, pad_y, pad_x = (r.integer() for _ in range(6))
    if kind == "avg_pool_everything":
        if nr != 0 or nc != 0:
            raise r.fail("a windowed pool where the layout pools everything")
        return Layer("avg_pool_everything")
    if (nr, stride_y) != step[1:] or nr != nc or stride_x != stride_y:
        raise r.fail(f"pool {nr}x{nc}/{stride_y} where the layout has {step[1:]}")
    return Layer(name, (nr, stride_y, pad_y, pad_x))


def _fc(r: _Reader, step: Step) -> Layer:
    version = r.expect("fc_2", "fc_3")
    outputs, inputs = r.integer(), r.integer()
    params = r.tensor()
    w_shape, _ = r.alias(), r.alias()
    if r.integer() != 1 or outputs != step[1]:  # bias mode 1: FC_NO_BIAS
        raise r.fail(f"fully connected layer where the layout has fc_no_bias<{step[1]}>")
    for _ in range(4):
        r.real()
    if version == "fc_3":
        r.boolean()
    return Layer("fc", (outputs,), {"w": _split(params, w_shape)[0].reshape(inputs, outputs)})


def _details(r: _Reader, step: Step) -> Layer:
    kind = str(step[0])
    if kind == "con":
        return _con(r, step)
    if kind == "affine":
        return _affine(r)
    if kind == "relu":
        if r.expect("relu_", "relu_2") == "relu_2" and r.boolean():
            return Layer("identity")
        return Layer("relu")
    if kind in ("max_pool", "avg_pool", "avg_pool_everything"):
        return _pool(r, step)
    if kind == "fc_no_bias":
        return _fc(r, step)
    if kind == "add_prev":
        r.expect("add_prev_")
        return Layer("add_prev", (int(str(step[1])),))
    raise r.fail(f"unsupported layout step {kind!r}")


def read_net(data: bytes, layout: list[Step]) -> DlibNet:
    """Parse ``data`` (a dlib ``loss_metric`` network file) that has ``layout``; ConfigurationError if not."""
    r = _Reader(data)
    # 1. the loss layer (nothing of it is needed for inference)
    if r.integer() != 1:
        raise r.fail("unsupported loss layer version")
    if r.expect("loss_metric_", "loss_metric_2") == "loss_metric_2":
        r.real(), r.real()
    # 2. one version number per layer, output side first; the last one sits on the input layer
    versions = [r.integer() for _ in layout][::-1]
    # 3. the input layer
    r.expect("input_rgb_image_sized")
    means = (r.real(), r.real(), r.real())
    size = (r.integer(), r.integer())
    # 4. layer details and training buffers, input side first
    layers: list[Layer] = []
    for index, (step, version) in enumerate(zip(layout, versions, strict=True)):
        if step[0] in ("tag", "skip"):
            layers.append(Layer(str(step[0]), (int(str(step[1])),)))
            continue
        layers.append(_details(r, step))
        for _ in range(3):
            r.boolean()  # setup called, gradient stale, output and gradient disabled
        r.tensor(), r.tensor()  # x_grad, cached output
        if index == 0:
            r.tensor()  # grad_final of the layer on the input
            if version >= 3:
                r.integer()  # sample expansion factor
        elif version >= 2:
            r.tensor()  # params_grad
    if r.pos != len(r.data):
        raise r.fail(f"{len(r.data) - r.pos} bytes left after the network")
    return DlibNet(means=means, size=size, layers=layers)
