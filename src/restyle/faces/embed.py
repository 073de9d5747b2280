"""128-d face embeddings (dlib ResNet) and the identity distance between two faces."""

from __future__ import annotations

from typing import Any

import numpy as np

from restyle.errors import InvalidParameter
from restyle.faces import models
from restyle.faces.detect import as_rgb
from restyle.faces.types import Face

SAME_PERSON_THRESHOLD = 0.6  # dlib's standard: below this distance two faces are the same person
CHIP_SIZE = 150
CHIP_PADDING = 0.25


def face_shape(face: Face) -> Any:
    """The face's landmarks as a ``dlib.full_object_detection``."""
    import dlib

    rect = dlib.rectangle(*(int(v) for v in face.box))
    points = [dlib.point(int(round(float(x))), int(round(float(y)))) for x, y in face.landmarks]
    return dlib.full_object_detection(rect, points)


def face_chip(image: np.ndarray, face: Face) -> np.ndarray:
    """The aligned 150x150 RGB chip the embedding network expects (about 0.5 ms)."""
    import dlib

    chip: np.ndarray = dlib.get_face_chip(
        as_rgb(image), face_shape(face), size=CHIP_SIZE, padding=CHIP_PADDING
    )
    return chip


def embed_chip(chip: np.ndarray, *, jitters: int = 0) -> np.ndarray:
    """The (128,) float64 embedding of an aligned chip from :func:`face_chip`."""
    net = models.face_recognizer()
    with models.recognizer_lock:
        descriptor = net.compute_face_descriptor(np.ascontiguousarray(chip), jitters)
    return np.asarray(descriptor, dtype=np.float64)


def embed_face(image: np.ndarray, face: Face, *, jitters: int = 0) -> np.ndarray:
    """The (128,) float64 embedding of ``face`` in ``image`` (RGB uint8); about 120 ms on CPU.

    ``jitters`` > 1 averages that many randomly jittered copies (slower, slightly more stable).
    """
    return embed_chip(face_chip(image, face), jitters=jitters)


def with_embeddings(image: np.ndarray, faces: list[Face]) -> list[Face]:
    """``faces`` with their embedding filled in; faces that already have one are kept as they are."""
    return [f if f.embedding is not None else f.with_embedding(embed_face(image, f)) for f in faces]


def _vector(value: Face | np.ndarray) -> np.ndarray:
    if isinstance(value, Face):
        if value.embedding is None:
            raise InvalidParameter(
                "The face has no embedding; compute it with embed_face first.", param="face"
            )
        value = value.embedding
    vector = np.asarray(value, dtype=np.float64).reshape(-1)
    if vector.shape != (128,):
        raise InvalidParameter(f"A face embedding has 128 values, not {vector.size}.", param="embedding")
    return vector


def identity_distance(a: Face | np.ndarray, b: Face | np.ndarray) -> float:
    """Euclidean distance between two embeddings (or faces carrying one); < 0.6 means same person."""
    return float(np.linalg.norm(_vector(a) - _vector(b)))
