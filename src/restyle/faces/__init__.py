"""Face toolkit: detection with 68 landmarks, embeddings and identity distance, masks, guard, retouch.

Built on dlib (wheel ``dlib-bin``) and the models of ``face-recognition-models``; models load
lazily, once per process, on first use.
"""

from __future__ import annotations

from restyle.faces.detect import detect_face_in_region, detect_faces, landmarks_for_box
from restyle.faces.embed import (
    SAME_PERSON_THRESHOLD,
    embed_face,
    embed_faces,
    identity_distance,
    with_embeddings,
)
from restyle.faces.guard import identity_guard
from restyle.faces.masks import FaceMasks, build_masks
from restyle.faces.retouch import retouch
from restyle.faces.types import Face

__all__ = [
    "SAME_PERSON_THRESHOLD",
    "Face",
    "FaceMasks",
    "build_masks",
    "detect_face_in_region",
    "detect_faces",
    "embed_face",
    "embed_faces",
    "identity_distance",
    "identity_guard",
    "landmarks_for_box",
    "retouch",
    "with_embeddings",
]
