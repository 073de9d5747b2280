"""Studio portrait (写真): the same photo, lit and finished like professional portrait photography.

Nothing is painted: a soft key light modelled on the head's orientation, a shallow depth of field
behind the segmented person, light skin retouching and a filmic colour grade.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.background import person_mask
from restyle.engines.classic.context import RenderContext
from restyle.faces.geometry import FaceGeometry
from restyle.faces.types import Face

_LIGHT_SIDE = 256  # short side of the lighting and background maps (both are smooth)
# Filmic tone curve (input, output): lifted toe, gentle shoulder, highlights never clip.
FILM_CURVE = ((0.0, 0.025), (0.12, 0.1), (0.5, 0.52), (0.85, 0.88), (1.0, 0.975))
WARMTH = (1.03, 1.0, 0.95)  # white balance of a warm key light
SKIN_WARMTH = (1.03, 1.0, 0.97)


def key_light(face: Face) -> np.ndarray:
    """Unit light direction (x right, y down, z towards the camera) for a face.

    The key sits about 40 degrees to the side the face is turned towards and 35 degrees above
    it ("short" lighting: the far cheek is lit, the near one falls into soft shadow); a frontal
    face is lit from the image's upper left.
    """
    geo = FaceGeometry.of(face)
    pts = geo.points
    centre = (pts[0] + pts[16]) / 2.0
    yaw = float(np.dot(pts[30] - centre, geo.right)) / max(geo.width, 1.0)  # ~ -0.3..0.3
    side = -1.0 if yaw <= 0.02 else 1.0
    azimuth = math.radians(40.0) * side
    elevation = math.radians(35.0)
    light = np.array([math.sin(azimuth) * math.cos(elevation), -math.sin(elevation),
                      math.cos(azimuth) * math.cos(elevation)], np.float32)
    # keep the light fixed to the head when it rolls
    roll = math.atan2(float(geo.right[1]), float(geo.right[0]))
    c, s = math.cos(roll), math.sin(roll)
    light[:2] = np.array([c * light[0] - s * light[1], s * light[0] + c * light[1]], np.float32)
    return light


def light_gain(shape: tuple[int, int], faces: list[Face], mask: ops.Float, strength: float) -> ops.Float:
    """Multiplicative relighting map (HxW, around 1) for a person under a soft key light.

    The head is modelled as an ellipsoid around its head ellipse and lit by :func:`key_light`
    relative to flat frontal light; the body gets the same light's broad side-to-side falloff;
    the background falls off towards the corners like a studio backdrop lit behind the subject.
    """
    h, w = shape
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    gain = np.ones((h, w), np.float32)
    body = np.ones((h, w), np.float32)
    for face in faces[:3]:
        geo = FaceGeometry.of(face)
        light = key_light(face)
        (cx, cy), (a, b), _ = geo.head_ellipse()
        nx = (xs - np.float32(cx)) / np.float32(a * 1.15)
        ny = (ys - np.float32(cy)) / np.float32(b * 1.15)
        r2 = nx * nx + ny * ny
        nz = np.sqrt(np.clip(1.0 - r2, 0.0, 1.0))
        lambert = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0.0, 1.0)
        ratio = np.clip((0.4 + 0.6 * lambert) / (0.4 + 0.6 * nz), 0.6, 1.5)
        inside = np.clip((1.0 - r2) * 3.0, 0.0, 1.0)
        # the key is brighter than flat light on its side, never a darkening of the whole face
        ratio *= np.float32(1.06 * float(inside.sum()) / max(float((ratio * inside).sum()), 1e-6))
        head = 1.0 + (ratio - 1.0) * inside
        gain = np.where(inside > 0, head, gain)
        side = (xs - np.float32(cx)) / np.float32(geo.width * 2.5) * np.float32(np.sign(light[0]))
        body = body * (1.0 + 0.12 * np.clip(side, -1.0, 1.0))
    person = gain * body
    dx = (xs - w / 2.0) / (w / 2.0)
    dy = (ys - h * 0.4) / (h / 2.0)
    backdrop = 1.0 - 0.28 * np.clip(dx * dx + dy * dy, 0.0, 1.5) / 1.5
    out = 1.0 + (mask * person + (1.0 - mask) * backdrop - 1.0) * np.float32(strength)
    return ops.f32(out)


def defocus(image: ops.Float, mask: ops.Float, sigma: float) -> ops.Float:
    """The scene behind the person blurred by ``sigma`` pixels without the person's colours bleeding
    into it (normalised convolution over the background only)."""
    weight = ops.f32(1.0 - mask)
    num = ops.blur(ops.f32(image * weight[:, :, None]), sigma)
    den = ops.blur(weight, sigma)
    return ops.f32(num / np.maximum(den, 1e-3)[:, :, None])


def _bounds(mask: ops.Float, threshold: float = 0.02) -> tuple[slice, slice] | None:
    """Row and column slices bounding ``mask > threshold``, or None when it is empty."""
    rows = np.flatnonzero(mask.max(axis=1) > threshold)
    cols = np.flatnonzero(mask.max(axis=0) > threshold)
    if rows.size == 0 or cols.size == 0:
        return None
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def _smooth_skin(crop: ops.Float, skin: ops.Float, s: float) -> ops.Float:
    """Skin smoothed (at half size: the smooth base has no fine detail) with part of its texture
    kept, and warmed a little."""
    ch, cw = crop.shape[:2]
    half = cv2.resize(crop, (max(1, cw // 2), max(1, ch // 2)), interpolation=cv2.INTER_AREA)
    smooth = cv2.ximgproc.guidedFilter(half, half, max(1, round(2.5 * s)), 0.0015)
    # retouched = smooth + 0.6 * texture, with texture = crop - its low-pass (the half-size copy)
    base = ops.f32(cv2.resize(half, (cw, ch), interpolation=cv2.INTER_LINEAR))
    lift = ops.f32(cv2.resize(ops.f32(smooth - half), (cw, ch), interpolation=cv2.INTER_LINEAR))
    retouched = ops.f32((lift + base + 0.6 * (crop - base)) * np.array(SKIN_WARMTH, np.float32))
    return ops.mix(crop, retouched, skin * np.float32(0.5))


def _clear_eyes(crop: ops.Float, eyes: ops.Float, s: float) -> ops.Float:
    """A touch of clarity (unsharp mask) in the eyes."""
    return ops.f32(crop + (crop - ops.blur(crop, 2.0 * s)) * (eyes * 0.6)[:, :, None])


def render_portrait(ctx: RenderContext) -> np.ndarray:
    """Steps: 1. person mask (GrabCut); 2. lighting and background maps at low resolution: key light
    on the head, falloff on the backdrop, vignette, the background defocused; 3. full size: person
    over the soft background, relit; 4. skin retouch and eye clarity on the face; 5. filmic grade
    with a warm white balance."""
    s = ctx.scale
    mask = person_mask(ctx.image, ctx.faces)
    regions = ops.face_regions(ctx.image, ctx.faces)

    # 2. Low-resolution maps: they are smooth, so full resolution would only cost time.
    small_u8, factor = ops.downscale(ctx.image, _LIGHT_SIDE)
    small = ops.to_float(small_u8)
    mask_small = ops.f32(ops.resize_to(mask, small.shape))
    faces_small = [f.transformed(factor, 0.0, 0.0) for f in ctx.faces]
    gain = light_gain(small.shape[:2], faces_small, mask_small, 0.9 * ctx.strength)
    gain = ops.f32(gain * ops.vignette(small.shape, 0.18 * min(1.0, ctx.strength)))
    blurred = defocus(small, mask_small, max(2.0, 6.0 * min(small.shape[:2]) / 512.0))
    blurred = ops.saturate(ops.f32(blurred * np.float32(0.92)), 0.85)

    # 3. Person over the defocused background, relit.
    image = ops.to_float(ctx.image)
    back = ops.f32(ops.resize_to(blurred, image.shape))
    fade = ops.f32((1.0 - mask) * np.float32(min(1.0, ctx.strength)))
    out = ops.mix(image, back, fade)
    out = ops.f32(out * ops.resize_to(gain, image.shape)[:, :, None])

    # 4. Retouch: skin and eyes, each on its own bounding box.
    if regions.masks is not None and ctx.strength > 0:
        amount = np.float32(min(1.0, ctx.strength))
        skin_box = _bounds(regions.masks.skin)
        if skin_box is not None:
            out[skin_box] = _smooth_skin(out[skin_box], regions.masks.skin[skin_box] * amount, s)
        eye_box = _bounds(regions.masks.eyes)
        if eye_box is not None:
            out[eye_box] = _clear_eyes(out[eye_box], regions.masks.eyes[eye_box] * amount, s)

    # 5. Grade: filmic curve with a warm white balance in one lookup table, then a soft vignette.
    lut = ops.tone_lut(FILM_CURVE)
    table = np.stack([np.clip(lut.astype(np.float32) * k, 0, 255) for k in WARMTH], axis=-1)
    graded = ops.apply_lut(ops.to_uint8(out), table.astype(np.uint8))
    if ctx.strength >= 1.0:
        return graded
    return ops.apply_strength(ctx.image, ops.to_float(graded), ctx.strength)
