"""A writer of dlib's DNN serialization, for networks with random weights that dlib itself can load.

It writes the newer layer versions (con_6, affine_2, relu_2, fc_3, and bn_con2 where asked) than
the shipped model file has (con_4, affine_, relu_, fc_2), so the reader is checked on both.
"""

from __future__ import annotations

import io
import math

import numpy as np

from restyle.faces.dlibnet import Step


def _int(out: io.BytesIO, value: int) -> None:
    sign = 0x80 if value < 0 else 0
    body = abs(value).to_bytes(max(1, (abs(value).bit_length() + 7) // 8), "little")
    out.write(bytes([len(body) | sign]) + body)


def _bool(out: io.BytesIO, value: bool) -> None:
    out.write(b"1" if value else b"0")


def _float(out: io.BytesIO, value: float) -> None:
    fraction, exponent = math.frexp(value)
    mantissa = int(fraction * 2**53)
    _int(out, mantissa)
    _int(out, exponent - 53 if mantissa else 0)


def _string(out: io.BytesIO, text: str) -> None:
    _int(out, len(text))
    out.write(text.encode("latin-1"))


def _tensor(out: io.BytesIO, values: np.ndarray | None, shape: tuple[int, ...] = (0, 0, 0, 0)) -> None:
    _int(out, 2)
    dims = shape if values is None else (*values.shape, *(1,) * (4 - values.ndim))
    for dim in dims:
        _int(out, int(dim))
    if values is not None:
        out.write(np.ascontiguousarray(values, dtype="<f4").tobytes())


def _alias(out: io.BytesIO, shape: tuple[int, int, int, int]) -> None:
    _int(out, 1)
    for dim in shape:
        _int(out, dim)


def _multipliers(out: io.BytesIO) -> None:
    for value in (1.0, 1.0, 1.0, 0.0):
        _float(out, value)


class _Writer:
    def __init__(self, rng: np.random.Generator, bn_every: int) -> None:
        self.rng, self.bn_every, self.affines = rng, bn_every, 0
        self.channels = 3

    def con(self, out: io.BytesIO, filters: int, size: int, stride: int) -> None:
        fan_in = self.channels * size * size
        w = self.rng.normal(0.0, math.sqrt(2.0 / fan_in), (filters, self.channels, size, size)).astype(np.float32)
        b = self.rng.normal(0.0, 0.05, filters).astype(np.float32)
        pad = size // 2 if stride == 1 else 0
        _string(out, "con_6")
        _tensor(out, np.concatenate([w.reshape(-1), b]).reshape(1, -1))
        for value in (filters, size, size, stride, stride, pad, pad):
            _int(out, value)
        _alias(out, (filters, self.channels, size, size))
        _alias(out, (1, filters, 1, 1))
        _multipliers(out)
        _bool(out, True)  # use_bias
        _bool(out, False)  # use_relu
        self.channels = filters

    def affine(self, out: io.BytesIO) -> None:
        c = self.channels
        gamma = self.rng.uniform(0.5, 1.2, c).astype(np.float32)
        beta = self.rng.normal(0.0, 0.1, c).astype(np.float32)
        self.affines += 1
        if self.bn_every and self.affines % self.bn_every == 0:
            _string(out, "bn_con2")
            _tensor(out, np.concatenate([gamma, beta]).reshape(1, -1))
            _alias(out, (1, c, 1, 1))
            _alias(out, (1, c, 1, 1))
            _tensor(out, None)
            _tensor(out, None)
            _tensor(out, self.rng.normal(0.0, 0.2, (1, c, 1, 1)).astype(np.float32))
            _tensor(out, self.rng.uniform(0.5, 2.0, (1, c, 1, 1)).astype(np.float32))
            _int(out, 1000)
            _int(out, 1000)
            _multipliers(out)
            _float(out, 1e-5)
            return
        _string(out, "affine_2")
        _tensor(out, np.concatenate([gamma, beta]).reshape(1, -1))
        _alias(out, (1, c, 1, 1))
        _alias(out, (1, c, 1, 1))
        _int(out, 0)  # CONV_MODE
        _bool(out, False)

    def pool(self, out: io.BytesIO, name: str, size: int, stride: int) -> None:
        _string(out, f"{name}_2")
        for value in (size, size, stride, stride, 0, 0):
            _int(out, value)

    def fc(self, out: io.BytesIO, outputs: int) -> None:
        w = self.rng.normal(0.0, math.sqrt(1.0 / self.channels), (self.channels, outputs)).astype(np.float32)
        _string(out, "fc_3")
        _int(out, outputs)
        _int(out, self.channels)
        _tensor(out, w.reshape(1, -1))
        _alias(out, (self.channels, outputs, 1, 1))
        _alias(out, (0, 0, 0, 0))
        _int(out, 1)  # FC_NO_BIAS
        _multipliers(out)
        _bool(out, False)

    def details(self, out: io.BytesIO, step: Step) -> None:
        kind = step[0]
        if kind == "con":
            self.con(out, *(int(str(v)) for v in step[1:]))
        elif kind == "affine":
            self.affine(out)
        elif kind == "relu":
            _string(out, "relu_2")
            _bool(out, False)
        elif kind in ("max_pool", "avg_pool"):
            self.pool(out, str(kind), int(str(step[1])), int(str(step[2])))
        elif kind == "avg_pool_everything":
            self.pool(out, "avg_pool", 0, 1)
        elif kind == "fc_no_bias":
            self.fc(out, int(str(step[1])))
        elif kind == "add_prev":
            _string(out, "add_prev_")
        else:
            raise ValueError(kind)


def write_net(layout: list[Step], *, seed: int = 0, bn_every: int = 3, size: int = 150) -> bytes:
    """A dlib ``loss_metric`` network file of ``layout`` with random weights (every ``bn_every``-th
    affine layer stored as a batch-norm layer, as a trainer would save it)."""
    out = io.BytesIO()
    writer = _Writer(np.random.default_rng(seed), bn_every)
    _int(out, 1)
    _string(out, "loss_metric_2")
    _float(out, 0.04)
    _float(out, 0.6)
    for step in reversed(layout):
        _int(out, 1 if step[0] in ("tag", "skip") else 2)
    _string(out, "input_rgb_image_sized")
    for mean in (122.782, 117.001, 104.298):
        _float(out, mean)
    _int(out, size)
    _int(out, size)
    channels: dict[int, int] = {}
    for step in layout:
        if step[0] == "tag":
            channels[int(str(step[1]))] = writer.channels
            continue
        if step[0] == "skip":
            writer.channels = channels[int(str(step[1]))]
            continue
        if step[0] == "add_prev":
            writer.channels = max(writer.channels, channels[int(str(step[1]))])
        writer.details(out, step)
        for flag in (True, False, False):
            _bool(out, flag)
        _tensor(out, None)
        _tensor(out, None)
        _tensor(out, None)  # grad_final (input layer) or params_grad
    return out.getvalue()
