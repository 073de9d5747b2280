"""Face geometry derived from the 68 landmarks: axes, size, forehead line, head ellipse, crop region.

Landmark layout (iBUG 300-W): jaw 0-16, brows 17-21 / 22-26, nose 27-35, eyes 36-41 / 42-47,
outer lips 48-59, inner lips 60-67. Points are (x, y) in image pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from restyle.faces.types import Face

JAW = slice(0, 17)
BROW_R = slice(17, 22)
BROW_L = slice(22, 27)
BROWS = slice(17, 27)
NOSE = slice(27, 36)
EYE_R = slice(36, 42)
EYE_L = slice(42, 48)
LIPS_OUTER = slice(48, 60)

# Below this jaw width (pixels) a face is degenerate (bad landmarks); keep the geometry finite.
_MIN_WIDTH = 4.0


@dataclass(frozen=True)
class FaceGeometry:
    """Axes and sizes of one face, all in image pixels.

    ``up`` points from the chin to the nose bridge, ``right`` along the jaw from point 0 to 16,
    ``width`` is the jaw width and ``length`` the nose-bridge-to-chin distance (two thirds of
    the face height).
    """

    points: np.ndarray
    up: np.ndarray
    right: np.ndarray
    width: float
    length: float

    @classmethod
    def of(cls, face: Face) -> FaceGeometry:
        """The geometry of ``face`` from its landmarks."""
        pts = np.asarray(face.landmarks, dtype=np.float32).reshape(68, 2)
        up = pts[27] - pts[8]
        length = float(np.hypot(*up))
        right = pts[16] - pts[0]
        width = float(np.hypot(*right))
        if length < _MIN_WIDTH or width < _MIN_WIDTH:
            # Degenerate landmarks: fall back on the detector box for an upright face.
            left, top, r, bottom = face.box
            width = max(float(r - left), _MIN_WIDTH)
            length = max(float(bottom - top) * 0.8, _MIN_WIDTH)
            return cls(
                pts, np.array([0.0, -1.0], np.float32), np.array([1.0, 0.0], np.float32), width, length
            )
        return cls(pts, (up / length).astype(np.float32), (right / width).astype(np.float32), width, length)

    @property
    def roll_degrees(self) -> float:
        """Angle of the jaw line from the horizontal, in degrees (image y points down)."""
        return math.degrees(math.atan2(float(self.right[1]), float(self.right[0])))

    def forehead(self) -> np.ndarray:
        """Ten points above the brows (17..26), highest in the middle, up to about the hairline."""
        brows = self.points[BROWS]
        centre = (self.points[0] + self.points[16]) / 2.0
        u = ((brows - centre) @ self.right) / (self.width / 2.0)
        lift = self.length * (0.3 + 0.2 * (1.0 - np.clip(u, -1.0, 1.0) ** 2))
        points: np.ndarray = (brows + lift[:, None] * self.up[None, :]).astype(np.float32)
        return points

    def face_polygon(self) -> np.ndarray:
        """Jaw line plus forehead line, as a closed polygon (convex hull)."""
        import cv2

        pts = np.concatenate([self.points[JAW], self.forehead()[::-1]], axis=0)
        hull: np.ndarray = cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2)
        return hull

    def head_ellipse(self) -> tuple[tuple[float, float], tuple[float, float], float]:
        """(centre, semi-axes, angle in degrees) of an ellipse covering face and hair."""
        top = self.points[27] + self.up * (0.95 * self.length)
        bottom = self.points[8] - self.up * (0.05 * self.length)
        centre = (top + bottom) / 2.0
        semi_h = float(np.hypot(*(top - bottom))) / 2.0
        semi_w = 0.5 * self.width * 1.35
        return (float(centre[0]), float(centre[1])), (semi_w, semi_h), self.roll_degrees

    def region(self, shape: tuple[int, int], margin: float = 0.25) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) covering the head ellipse plus ``margin * width``, clipped."""
        (cx, cy), (a, b), angle = self.head_ellipse()
        t = math.radians(angle)
        half_x = math.hypot(a * math.cos(t), b * math.sin(t))
        half_y = math.hypot(a * math.sin(t), b * math.cos(t))
        pad = margin * self.width
        face_pts = self.points
        x0 = min(cx - half_x, float(face_pts[:, 0].min())) - pad
        x1 = max(cx + half_x, float(face_pts[:, 0].max())) + pad
        y0 = min(cy - half_y, float(face_pts[:, 1].min())) - pad
        y1 = max(cy + half_y, float(face_pts[:, 1].max())) + pad
        h, w = shape
        left, top = max(0, int(math.floor(x0))), max(0, int(math.floor(y0)))
        right, bottom = min(w, int(math.ceil(x1))), min(h, int(math.ceil(y1)))
        return left, top, max(left, right), max(top, bottom)
