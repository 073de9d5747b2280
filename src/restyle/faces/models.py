"""Lazy, thread-safe, per-process dlib models (detectors, landmarks, embedding network).

The model files ship in the PyPI package ``face-recognition-models``. That package's
``__init__`` imports ``pkg_resources`` (gone from recent setuptools), so its folder is found
through ``importlib`` without importing it.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from restyle.errors import MissingExtra

T = TypeVar("T")

SHAPE_68 = "shape_predictor_68_face_landmarks.dat"
RESNET = "dlib_face_recognition_resnet_model_v1.dat"
MMOD = "mmod_human_face_detector.dat"

_lock = threading.Lock()
_cache: dict[str, Any] = {}

# dlib's DNNs keep scratch buffers inside the network object: one forward pass at a time.
cnn_lock = threading.Lock()
recognizer_lock = threading.Lock()


def _dlib() -> Any:
    try:
        import dlib
    except ImportError as exc:  # pragma: no cover - dlib-bin is a core dependency
        raise MissingExtra("The face toolkit needs dlib; install it with `pip install dlib-bin`.") from exc
    return dlib


def models_dir() -> str:
    """The folder holding the dlib model files of ``face-recognition-models``."""
    spec = importlib.util.find_spec("face_recognition_models")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise MissingExtra(
            "The face models are not installed; install them with `pip install face-recognition-models`."
        )
    return os.path.join(locations[0], "models")


def model_path(name: str) -> str:
    """Absolute path of one model file, or MissingExtra when it is absent."""
    path = os.path.join(models_dir(), name)
    if not os.path.isfile(path):
        raise MissingExtra(
            f"The face model file {name} is missing; reinstall it with "
            "`pip install --force-reinstall face-recognition-models`."
        )
    return path


def _singleton(key: str, factory: Callable[[], T]) -> T:
    value = _cache.get(key)
    if value is None:
        with _lock:
            value = _cache.get(key)
            if value is None:
                value = factory()
                _cache[key] = value
    return value


def hog_detector() -> Any:
    """dlib's frontal HOG face detector (``get_frontal_face_detector``)."""
    return _singleton("hog", lambda: _dlib().get_frontal_face_detector())


def cnn_detector() -> Any:
    """dlib's MMOD CNN face detector (slow on CPU, more robust to pose)."""
    return _singleton("cnn", lambda: _dlib().cnn_face_detection_model_v1(model_path(MMOD)))


def shape_predictor() -> Any:
    """The 68-point landmark predictor (iBUG 300-W layout)."""
    return _singleton("shape68", lambda: _dlib().shape_predictor(model_path(SHAPE_68)))


def face_recognizer() -> Any:
    """The ResNet network that maps an aligned face to a 128-d embedding."""
    return _singleton("resnet", lambda: _dlib().face_recognition_model_v1(model_path(RESNET)))


def haar_cascade() -> Any:
    """OpenCV's frontal-face Haar cascade (ships inside the OpenCV wheel): a second opinion on weak hits.

    OpenCV classifiers are not thread-safe: use it under ``haar_lock``.
    """

    def load() -> Any:
        import cv2

        folder: str = cv2.data.haarcascades  # type: ignore[attr-defined]
        cascade = cv2.CascadeClassifier(folder + "haarcascade_frontalface_default.xml")
        if cascade.empty():
            raise RuntimeError("OpenCV's haarcascade_frontalface_default.xml could not be loaded.")
        return cascade

    return _singleton("haar", load)


haar_lock = threading.Lock()


_cascade_locks: dict[str, threading.Lock] = {}


def cv_cascade(filename: str) -> tuple[Any, threading.Lock]:
    """One of OpenCV's shipped Haar cascades (``cv2.data``) and the lock to use it under."""

    def load() -> Any:
        import cv2

        folder: str = cv2.data.haarcascades  # type: ignore[attr-defined]
        cascade = cv2.CascadeClassifier(folder + filename)
        if cascade.empty():
            raise MissingExtra(f"OpenCV's {filename} could not be loaded; reinstall opencv.")
        return cascade

    cascade = _singleton(f"cv:{filename}", load)
    with _lock:
        lock = _cascade_locks.setdefault(filename, threading.Lock())
    return cascade, lock
