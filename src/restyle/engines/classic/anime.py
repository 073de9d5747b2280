"""Anime (二次元): a cel-painted character on a soft painted backdrop.

Unlike the colourful cartoon (a vivid k-means palette and thick outlines everywhere), anime keeps
each colour region's own hue, lightens it, and paints it with two or three flat tones whose
boundaries are crisp: a lavender shadow, the base and a highlight. Thin dark line art is drawn
on the figure only; the background is a soft, bright, line-free wash under a sky gradient. The
face gets flat light skin with one shadow tone, a blush, and bright eyes with catchlights.
"""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext
from restyle.faces.types import Face

LINE = (0.20, 0.11, 0.13)
SHADOW_TINT = (0.74, 0.70, 0.86)  # multiplied into a colour: its cel shadow (cool lavender)
SKIN_LIGHT = (1.0, 0.90, 0.82)
SKIN_SHADOW = (0.90, 0.70, 0.68)
BLUSH = (1.0, 0.55, 0.58)
SKY_TOP, SKY_BOTTOM = (0.55, 0.76, 0.98), (0.96, 0.97, 1.0)
PALETTE_CURVE = [(0.0, 0.07), (0.25, 0.36), (0.6, 0.8), (1.0, 1.0)]


def _cel(smooth: ops.Float, ws: float) -> tuple[ops.Float, ops.Float]:
    """Flat colour regions with a crisp shadow and highlight relative to each region's own tone,
    and the flattened image's luminance (for clean lines)."""
    # A grey guide: several times cheaper than a colour one, and the regions follow lightness edges.
    guide = ops.luminance(smooth)
    flat = ops.f32(cv2.ximgproc.guidedFilter(guide, smooth, max(2, round(6 * ws)), 0.006))
    base = ops.curve(ops.saturate(flat, 1.35), PALETTE_CURVE)
    luma = ops.blur(ops.luminance(smooth), 1.2 * ws)
    local = ops.blur(luma, 14.0 * ws)
    detail = luma - local
    shadow = ops.smoothstep(-0.03, -0.07, detail)
    shadow = np.maximum(shadow, ops.smoothstep(0.3, 0.22, luma) * 0.6)
    highlight = ops.smoothstep(0.07, 0.11, detail) * ops.smoothstep(0.45, 0.6, luma)
    out = ops.mix(base, ops.affine(base, SHADOW_TINT), ops.f32(shadow))
    flat_luma = ops.luminance(flat)
    line_src = ops.f32(cv2.ximgproc.guidedFilter(flat_luma, flat_luma, max(2, round(5 * ws)), 0.012))
    return ops.towards(out, (1.0, 1.0, 1.0), ops.f32(highlight * 0.45)), line_src


def _backdrop(base: ops.Float, ws: float) -> ops.Float:
    """The scene behind the figure: soft, bright, lightly posterised, under a pale sky gradient."""
    soft = ops.blur(base, 5.0 * ws)
    soft = ops.cel_shade(soft, (0.3, 0.55, 0.78, 0.95), softness=0.12, chroma=0.9)
    soft = ops.affine(soft, 0.75, 0.25)
    h = soft.shape[0]
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    sky = np.concatenate([(SKY_TOP[i] + (SKY_BOTTOM[i] - SKY_TOP[i]) * t)[..., None] for i in range(3)], axis=2)
    sky = ops.f32(np.repeat(sky, soft.shape[1], axis=1))
    return ops.mix(soft, sky, 0.4)


def _skin(image: ops.Float, colour: ops.Float, regions: ops.Regions, box: ops.Box) -> ops.Float:
    """Flat light skin with one soft-edged shadow tone taken from the original's face shading."""
    fw = regions.face_width
    gray = ops.blur(ops.luminance(image[box]), 0.025 * fw)
    face = regions.face[box]
    weights = face > 0.5
    median = float(np.median(gray[weights])) if weights.any() else 0.5
    shade = ops.smoothstep(median - 0.06, median - 0.12, gray)
    light = ops.smoothstep(median + 0.1, median + 0.16, gray)
    skin = ops.towards(image[box], SKIN_LIGHT, 1.0)
    own = ops.saturate(ops.curve(image[box], PALETTE_CURVE), 1.1)
    skin = ops.mix(skin, own, 0.35)
    skin = ops.mix(skin, ops.affine(skin, (SKIN_SHADOW[0], SKIN_SHADOW[1], SKIN_SHADOW[2])), shade)
    skin = ops.towards(skin, (1.0, 0.98, 0.96), ops.f32(light * 0.5))
    return ops.mix(colour[box], skin, ops.f32(regions.masks.skin[box] if regions.masks is not None else face))


def _eyes_and_blush(image: ops.Float, faces: list[Face]) -> ops.Float:
    """Landmark-guided anime cues: a dark iris with a gradient, two catchlights, a heavy upper
    lash line and a soft blush with a few hatch strokes on each cheek."""
    out = image
    h, w = image.shape[:2]
    for pts, fw in ops.faces_with_width(faces, 24):
        left, top = max(0, int(pts[:, 0].min() - 0.05 * fw)), max(0, int(pts[17:27, 1].min() - 0.1 * fw))
        right, bottom = min(w, int(pts[:, 0].max() + 0.05 * fw) + 1), min(h, int(pts[33, 1] + 0.1 * fw) + 1)
        if right <= left or bottom <= top:
            continue
        local = pts - np.array([left, top], np.float32)
        size = (bottom - top, right - left)
        iris = np.zeros(size, np.float32)
        glint = np.zeros(size, np.float32)
        blush = np.zeros(size, np.float32)
        hatch = np.zeros(size, np.float32)
        for eye, corner in ((slice(36, 42), 2), (slice(42, 48), 14)):
            ring = local[eye]
            centre = ring.mean(axis=0)
            eye_w = float(np.hypot(*(ring[3] - ring[0])))
            eye_h = max(2.0, float(np.mean([ring[5][1] - ring[1][1], ring[4][1] - ring[2][1]])))
            opening = np.zeros(size, np.uint8)
            cv2.fillPoly(opening, [np.round(ring).astype(np.int32)], 255, cv2.LINE_AA)
            disc = np.zeros(size, np.float32)
            r = max(1.5, min(0.3 * eye_w, 0.75 * eye_h))
            cv2.circle(disc, (round(centre[0]), round(centre[1] + 0.1 * eye_h)), round(r), 1.0, -1, cv2.LINE_AA)
            iris = np.maximum(iris, disc * ops.to_float(opening))
            for dx, dy, rad, val in ((-0.35, -0.4, 0.34, 1.0), (0.35, 0.35, 0.17, 0.85)):
                cv2.circle(glint, (round(centre[0] + dx * r), round(centre[1] + dy * r)),
                           max(1, round(rad * r)), val, -1, cv2.LINE_AA)
            cheek = (local[corner] * 0.45 + centre * 0.55) + np.array([0.0, 0.2 * fw], np.float32)
            cv2.ellipse(blush, (round(cheek[0]), round(cheek[1])), (max(1, round(0.09 * fw)), max(1, round(0.045 * fw))),
                        0, 0, 360, 1.0, -1, cv2.LINE_AA)
            for k in (-1, 0, 1):
                x = cheek[0] + k * 0.035 * fw
                p1 = (round(x - 0.012 * fw), round(cheek[1] + 0.025 * fw))
                p2 = (round(x + 0.012 * fw), round(cheek[1] - 0.025 * fw))
                cv2.line(hatch, p1, p2, 1.0, max(1, round(0.006 * fw)), cv2.LINE_AA)
        iris = ops.blur(iris, 0.004 * fw)
        rows = np.linspace(0.0, 1.0, size[0], dtype=np.float32)[:, None]
        box = (slice(top, bottom), slice(left, right))
        if out is image:
            out = image.copy()
        crop = out[box]
        dark = ops.towards(crop, (0.12, 0.08, 0.14), ops.f32(iris * 0.55))
        crop = ops.mix(crop, dark, ops.f32(np.clip(iris * (1.0 - 0.4 * rows), 0.0, 1.0)))
        crop = ops.towards(crop, BLUSH, ops.f32(ops.blur(blush, 0.03 * fw) * 0.35))
        crop = ops.towards(crop, (0.85, 0.35, 0.4), ops.f32(hatch * 0.45))
        out[box] = ops.towards(crop, (1.0, 1.0, 1.0), ops.f32(np.clip(glint, 0.0, 1.0) * 0.95))
    return out


def render_anime(ctx: RenderContext) -> np.ndarray:
    """Steps (1-3 at working size): 1. smooth; 2. cel colour: lightened flat regions with a crisp
    lavender shadow and a highlight; 3. a soft line-free backdrop behind the figure; 4. full size:
    face with flat light skin, one shadow tone and the original's structure; 5. thin line art on
    the figure; 6. crisp features, lash lines, bright eyes with catchlights and a blush."""
    image = ops.auto_level(ops.to_float(ctx.image))
    s = ctx.scale
    regions = ops.face_regions(ctx.image, ctx.faces)
    fw = regions.face_width

    # 1-3. Cel colour on the figure, a soft backdrop behind it.
    small, factor = ops.downscale(image)
    ws = min(small.shape[:2]) / 512.0
    smooth = ops.edge_preserving_smooth(small, 2.0, 0.10, iterations=3)
    cel, flat_luma = _cel(smooth, ws)
    figure = ops.figure_mask(smooth, ops.scale_faces(ctx.faces, factor))
    colour = ops.mix(_backdrop(cel, ws), cel, figure)
    colour = ops.f32(ops.resize_to(colour, image.shape))
    figure_full = ops.f32(ops.resize_to(figure, image.shape))

    # 4. Face: flat light skin with the original's structure.
    colour = ops.in_box(regions, colour, lambda b: _skin(image, colour, regions, b), inplace=True)
    colour = ops.keep_face_detail(colour, image, regions, 1.0, 0.08 * fw, fine=0.02 * fw, inplace=True)

    # 5. Thin line art from the smoothed image (the softened original on the face), on the figure.
    gray = ops.f32(ops.resize_to(flat_luma, image.shape))
    face_gray = ops.soften_face(ops.luminance(image), regions, 0.03 * fw)
    gray = ops.in_box(regions, gray, lambda b: ops.mix(gray[b], face_gray[b], regions.face[b]), inplace=True)
    lines = ops.xdog_lines(gray, sigma=0.7 * s, tau=0.99, epsilon=0.004, phi=70.0)
    out = ops.ink(colour, ops.f32(1.0 - (1.0 - lines) * figure_full), LINE)

    # 6. Crisp features, lash lines, bright eyes and a blush.
    out = ops.redraw_features(out, image, regions, 0.7, luma_only=True, inplace=True)
    out = ops.draw_features(out, ctx.faces, LINE, 0.9, ("eyelids",), weight=0.75)
    out = _eyes_and_blush(out, ctx.faces)
    return ops.apply_strength(ctx.image, out, ctx.strength)
