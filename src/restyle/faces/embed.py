"""128-d face embeddings (dlib ResNet) and the identity distance between two faces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from restyle.errors import InvalidParameter
from restyle.faces.detect import as_rgb
from restyle.faces.embedder import embed_chips
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
    vector: np.ndarray = embed_chips(np.asarray(chip)[None], jitters=jitters)[0]
    return vector


def embed_face(image: np.ndarray, face: Face, *, jitters: int = 0) -> np.ndarray:
    """The (128,) float64 embedding of ``face`` in ``image`` (RGB uint8); about 8 ms on one core.

    ``jitters`` > 1 averages that many randomly jittered copies (slower, slightly more stable).
    """
    return embed_chip(face_chip(image, face), jitters=jitters)


def embed_faces(image: np.ndarray, faces: Sequence[Face], *, embedder: str = "auto") -> np.ndarray:
    """The ``(len(faces), 128)`` float64 embeddings of ``faces`` in ``image``, in one network run."""
    rgb = as_rgb(image)
    if not faces:
        return np.empty((0, 128), np.float64)
    chips = np.stack([face_chip(rgb, face) for face in faces])
    return embed_chips(chips, embedder=embedder)


def with_embeddings(image: np.ndarray, faces: list[Face]) -> list[Face]:
    """``faces`` with their embedding filled in; faces that already have one are kept as they are."""
    missing = [i for i, face in enumerate(faces) if face.embedding is None]
    vectors = embed_faces(image, [faces[i] for i in missing])
    out = list(faces)
    for i, vector in zip(missing, vectors, strict=True):
        out[i] = faces[i].with_embedding(vector)
    return out


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
