"""The backends of the 128-d face embedding: dlib's ResNet on onnxruntime (default) or on dlib itself.

Both compute the same network on the same 150x150 chips; the ONNX graph (see ``onnxnet``) agrees
with dlib within about 1e-6 per component and runs a chip about 15x faster on one core, and
several chips in one call. Without onnxruntime (or with ``RESTYLE_FACES_EMBEDDER=dlib``) dlib runs.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import numpy as np

from restyle.errors import InvalidParameter
from restyle.faces import models

log = logging.getLogger(__name__)

BACKENDS = ("auto", "onnx", "dlib")
_lock = threading.Lock()
_session: list[Any] = []  # [] before the first use, [None] when onnxruntime cannot run the graph


def _onnx_session() -> Any:
    """The onnxruntime session (1 intra-op thread) of the converted network, or None without onnxruntime."""
    if _session:
        return _session[0]
    with _lock:
        if _session:
            return _session[0]
        try:
            import onnxruntime
        except ImportError:
            log.warning("onnxruntime is not installed: face embeddings run on dlib (about 15x slower); "
                        "install it with `pip install onnxruntime`.")
            _session.append(None)
            return None
        from restyle.faces.onnxnet import cached_model

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            model = cached_model(models.model_path(models.RESNET))
            session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        except Exception:  # any failure to build or load the graph leaves dlib, which always works
            log.exception("The face embedder could not be converted to ONNX: embeddings run on dlib.")
            session = None
        _session.append(session)
        return session


def backend(requested: str = "auto") -> str:
    """The backend that runs for ``requested`` ("auto" follows ``RESTYLE_FACES_EMBEDDER``, then prefers onnx)."""
    if requested not in BACKENDS:
        raise InvalidParameter(f"The embedder must be one of {', '.join(BACKENDS)}, not {requested!r}.",
                               param="embedder")
    if requested == "auto":
        requested = os.environ.get("RESTYLE_FACES_EMBEDDER", "auto").strip().lower() or "auto"
        if requested not in BACKENDS:
            requested = "auto"
    if requested in ("auto", "onnx") and _onnx_session() is not None:
        return "onnx"
    return "dlib"


def _dlib_chips(chips: np.ndarray, jitters: int) -> np.ndarray:
    net = models.face_recognizer()
    out = np.empty((len(chips), 128), np.float64)
    for i, chip in enumerate(chips):
        with models.recognizer_lock:
            out[i] = np.asarray(net.compute_face_descriptor(np.ascontiguousarray(chip), jitters))
    return out


def embed_chips(chips: np.ndarray, *, jitters: int = 0, embedder: str = "auto") -> np.ndarray:
    """The ``(N, 128)`` float64 embeddings of ``N`` aligned ``(150, 150, 3)`` uint8 chips, in one run.

    ``jitters`` > 1 averages randomly jittered copies, which only dlib does: it runs dlib.
    """
    chips = np.ascontiguousarray(chips, dtype=np.uint8)
    if chips.ndim != 4 or chips.shape[1:] != (150, 150, 3):
        raise InvalidParameter(f"Face chips must be (N, 150, 150, 3) uint8, not {chips.shape}.", param="chips")
    if len(chips) == 0:
        return np.empty((0, 128), np.float64)
    if jitters > 1 or backend(embedder) == "dlib":
        return _dlib_chips(chips, jitters)
    session = _onnx_session()
    result: np.ndarray = session.run(None, {"chips": chips})[0].astype(np.float64)
    return result
