"""Cartoon styles: 3D fairy tale (3D童话) and colourful cartoon (炫彩卡通).

The colourful cartoon is a cel (:mod:`ops.cel`): saturated flat regions in two tones with thick
outlines everywhere; the fairy tale is a soft 3D render: smooth albedo, pseudo-normal shading,
rim light and big glossy eyes.
"""

from __future__ import annotations

import cv2
import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext
from restyle.engines.classic.ops import cel, celface
from restyle.faces.types import Face

WARM_SHADOW = (0.42, 0.30, 0.55)
WARM_LIGHT = (1.0, 0.86, 0.62)
OUTLINE = (0.10, 0.07, 0.12)
SKIN_WARM = (1.0, 0.78, 0.64)
SKIN_POP, SKIN_POP_SHADOW = (1.0, 0.84, 0.70), (0.93, 0.6, 0.5)
CARTOON_COLOURS = 7
MATERIALS = 12  # flat surface colours of the fairy tale's render


def _spot(mask: ops.Float, centre: np.ndarray, axes: tuple[float, float], value: float) -> None:
    cv2.ellipse(mask, (int(centre[0]), int(centre[1])), (max(1, int(axes[0])), max(1, int(axes[1]))),
                0, 0, 360, value, -1, cv2.LINE_AA)


def _glints_and_blush(image: ops.Float, faces: list[Face]) -> ops.Float:
    """3D-character cues from the landmarks: glossy glints on forehead, nose and cheekbones,
    catchlights in the eyes and a soft blush on the cheeks."""
    out = image
    h, w = image.shape[:2]
    for pts, fw in ops.faces_with_width(faces, 16):
        left, top = max(0, int(pts[:, 0].min() - 0.1 * fw)), max(0, int(pts[:, 1].min() - 0.4 * fw))
        right, bottom = min(w, int(pts[:, 0].max() + 0.1 * fw) + 1), min(h, int(pts[:, 1].max()) + 1)
        if right <= left or bottom <= top:
            continue
        pts = pts - np.array([left, top], np.float32)
        gloss = np.zeros((bottom - top, right - left), np.float32)
        blush = np.zeros_like(gloss)
        brow_mid = (pts[21] + pts[22]) / 2
        _spot(gloss, brow_mid - [0, 0.18 * fw], (0.12 * fw, 0.05 * fw), 0.5)
        _spot(gloss, (pts[28] + pts[30]) / 2, (0.025 * fw, 0.08 * fw), 0.6)
        for eye, corner in ((slice(36, 42), 1), (slice(42, 48), 15)):
            centre = pts[eye].mean(axis=0)
            cheek = (pts[corner] * 0.4 + centre * 0.6) + [0, 0.12 * fw]
            _spot(gloss, cheek, (0.06 * fw, 0.03 * fw), 0.35)
            _spot(blush, cheek + [0, 0.06 * fw], (0.11 * fw, 0.07 * fw), 1.0)
        gloss = ops.blur(gloss, 0.03 * fw) * np.float32(0.6)
        blush = ops.blur(blush, 0.05 * fw) * np.float32(0.25)
        for eye in (slice(36, 42), slice(42, 48)):
            centre = pts[eye].mean(axis=0)
            eye_h = float(np.hypot(*(pts[eye][1] - pts[eye][5])))
            if eye_h >= 6:  # on a small face a catchlight covers the whole eye
                _spot(gloss, centre + [-0.15 * eye_h, -0.2 * eye_h], (0.18 * eye_h, 0.18 * eye_h), 0.6)
        box = (slice(top, bottom), slice(left, right))
        if out is image:
            out = image.copy()
        out[box] = ops.towards(out[box], (0.95, 0.45, 0.45), blush)
        out[box] = ops.screen(out[box], ops.gray3(gloss))
    return out


def _fairy_scene(ctx: RenderContext, image: ops.Float, regions: ops.Regions) -> ops.Float:
    """Steps 1-4 of :func:`render_fairy_tale_3d` at full size (nothing here reads ``detail``)."""
    small, factor = ops.downscale(image)
    ws = min(small.shape[:2]) / 512.0

    # 1. Albedo: flat materials (a Lab palette of regions, softened edges) like the uniform
    # surfaces of a render; warm saturated colour. The face keeps its smoothed colour here: its
    # own step 5 smooths the skin but keeps the features.
    smooth_small = ops.edge_preserving_smooth(small, 2.0, 0.10, iterations=2)
    tiny, _ = ops.downscale(smooth_small, cel.CEL_SHORT_SIDE)
    tiny = ops.edge_preserving_smooth(tiny, 2.0, 0.14, iterations=2)
    cut = cel.segment(tiny, MATERIALS, ctx.rng, 9, 8.0, 1.0)
    material = cel.fill(cut.labels, cel.from_lab(cut.palette))
    material = ops.blur(ops.f32(ops.resize_to(material, small.shape)), 1.5 * ws)
    face_small = ops.f32(ops.resize_to(regions.face, small.shape))
    albedo = ops.mix(material, smooth_small, ops.f32(0.85 * face_small))
    albedo = ops.saturate(albedo, 1.5)
    albedo = ops.split_tone(albedo, WARM_SHADOW, WARM_LIGHT, 0.5)
    albedo = ops.curve(albedo, [(0.0, 0.06), (0.25, 0.26), (0.6, 0.7), (1.0, 1.0)])

    # 2-3. Shading from a pseudo-normal map: the figure as an inflated, rounded volume (its
    # blurred mask) with gentle bumps from the blurred luminance; soft-focus background.
    faces = ops.scale_faces(ctx.faces, factor)
    subject = ops.figure_mask(smooth_small, faces)
    luma = ops.luminance(material)
    height = ops.f32(ops.blur(subject, 18.0 * ws) + 0.35 * ops.blur(luma, 3.0 * ws))
    diffuse, spec = ops.normal_light(height, 2.0 * ws, 14.0)
    spec = ops.f32(spec * ops.smoothstep(0.3, 0.65, ops.luminance(albedo)) * subject)
    lit = ops.times(albedo, ops.f32(0.72 + 0.4 * diffuse))
    bounce = ops.f32(np.clip(0.6 - diffuse, 0.0, 1.0) * 0.35 * subject)
    lit = ops.towards(lit, (0.9, 0.5, 0.32), bounce)
    lit = ops.towards(lit, (1.0, 0.98, 0.94), ops.f32(np.clip(spec * 0.7, 0.0, 1.0)))
    out = ops.mix(ops.blur(albedo, 7.0 * ws), lit, subject)

    # 4. Warm rim light round the figure, bloom, vignette.
    rim = np.clip(subject - ops.blur(subject, 5.0 * ws), 0.0, 1.0)
    rim = ops.f32(np.minimum(rim * np.float32(3.0), 1.0))
    out = ops.screen(out, ops.affine(ops.gray3(rim), tuple(0.7 * c for c in WARM_LIGHT)))
    out = ops.bloom(out, 0.65, 30.0 * ws, 0.4)
    out = ops.times(out, ops.vignette(out.shape, 0.3))
    out = ops.f32(ops.resize_to(out, image.shape))
    return out


def render_fairy_tale_3d(ctx: RenderContext) -> np.ndarray:
    """Steps (1-4 at working size): 1. albedo: flat materials from a Lab palette of regions with
    softened edges, warm saturated colour; 2. shading: a pseudo-normal map from the
    heavily blurred luminance, lit from the upper left (soft diffuse light, warm bounce in the
    shadows, specular highlights); 3. soft-focus background; 4. warm rim light round the figure,
    bloom, vignette; 5. full size: the face keeps its structure under smooth skin, rounded face
    light, crisp, brighter, bigger eyes, glints and blush. ``RenderContext.detail`` keeps more of
    the face's finer structure and enlarges the eyes less."""
    image = ctx.memo("fairy.image", lambda: ops.auto_level(ops.to_float(ctx.image)))
    regions = ctx.memo("fairy.regions", lambda: ops.face_regions(ctx.image, ctx.faces))
    fw = regions.face_width
    out = ctx.memo("fairy.scene", lambda: _fairy_scene(ctx, image, regions))

    # 5. The face: smooth skin, rounded light, the original's structure, bright eyes.
    detail = float(np.clip(ctx.detail, 0.0, 1.0))
    out = ops.smooth_skin(out, regions, 0.045 * fw, inplace=True)
    out = ops.keep_face_detail(out, image, regions, 0.8 + 0.2 * detail, 0.08 * fw, fine=(0.03 - 0.015 * detail) * fw,
                               inplace=True)

    def round_face(b: ops.Box) -> ops.Float:
        dome = ops.blur(regions.face[b], 0.12 * fw)
        d, sp = ops.normal_light(dome, 0.02 * fw, 0.25 * fw)
        lit = ops.times(out[b], ops.f32(0.9 + 0.2 * (d - np.float32(np.median(d)))))
        lit = ops.towards(lit, (1.0, 0.97, 0.93), ops.f32(np.clip(sp * 0.3, 0.0, 1.0)))
        lit = ops.curve(ops.saturate(lit, 1.2), [(0.0, 0.04), (0.3, 0.36), (0.7, 0.8), (1.0, 1.0)])
        lit = ops.towards(lit, SKIN_WARM, 0.12)
        return ops.mix(out[b], lit, regions.face[b])

    out = ops.in_box(regions, out, round_face, inplace=True)

    def bright_features(b: ops.Box) -> ops.Float:
        crisp = ops.local_contrast(out[b], 0.03 * fw, 1.2)
        return ops.mix(out[b], crisp, regions.features[b] * 0.9)

    out = ops.in_box(regions, out, bright_features, inplace=True)
    out = ops.magnify_eyes(out, ctx.faces, 0.25 - 0.1 * detail)
    out = _glints_and_blush(out, ctx.faces)
    return ops.apply_strength(ctx.image, out, ctx.strength)


render_fairy_tale_3d.honours_detail = True  # type: ignore[attr-defined]


def _vivid(palette_lab: ops.Float) -> tuple[ops.Float, ops.Float]:
    """(base, shadow) RGB tables: the palette as saturated poster colours, the shadow deeper."""
    rgb = cel.from_lab(palette_lab).reshape(1, -1, 3)
    base = ops.adjust_hsv(rgb, saturation=1.8, value=1.1)
    shade = ops.adjust_hsv(base, saturation=1.15, value=0.72)
    return base.reshape(-1, 3), shade.reshape(-1, 3)


def _cartoon_cel(ctx: RenderContext, image: ops.Float) -> ops.Float:
    """Steps 1-3 of :func:`render_colorful_cartoon` (nothing here reads ``detail``)."""
    s = ctx.scale

    # 1-2. Regions, shadow tone and saturated flat fills.
    small, factor = ops.downscale(image, cel.CEL_SHORT_SIDE)
    ws = min(small.shape[:2]) / 512.0
    smooth = ops.edge_preserving_smooth(small, 2.0, 0.12, iterations=3)
    figure = ops.figure_mask(smooth, ops.scale_faces(ctx.faces, factor)) > 0.5
    cut = cel.segment(smooth, CARTOON_COLOURS, ctx.rng, 9, 16.0 * ws, 0.06, focus=figure if ctx.faces else None)
    cut = cel.simplify_backdrop(cut, figure, 13)
    base, shade = _vivid(cut.palette)
    big = cel.upscale_labels(cut.index(), image.shape, round(2 * s) | 1)
    out = cel.fill(big, cut.tones(base, shade))

    # 3. Thick outlines round every region.
    edges = cel.boundaries((big // 2).astype(np.uint8), cel.lab_distances(cut.palette, 30.0), 16.0, max(4, round(2.6 * s)))
    celface.paint(out, edges, OUTLINE)
    return out


def render_colorful_cartoon(ctx: RenderContext) -> np.ndarray:
    """Steps: 1. regions of the smoothed picture (Lab palette) and a hard shadow tone, at working
    size; 2. saturated flat fills, two tones per region, upscaled; 3. thick dark outlines along
    every region boundary; 4. the face: flat warm skin tones from its shading, its main lines,
    cartoon eyes, brows, nose and mouth from the landmarks. ``RenderContext.detail`` adds skin
    tones and keeps the eyes closer to their size."""
    detail = float(np.clip(ctx.detail, 0.0, 1.0))
    image = ctx.memo("cartoon.image", lambda: ops.auto_level(ops.to_float(ctx.image)))
    regions = ctx.memo("cartoon.regions", lambda: ops.face_regions(ctx.image, ctx.faces))
    out = ctx.memo("cartoon.cel", lambda: _cartoon_cel(ctx, image))

    # 4. The face.
    celface.draw_face(out, image, ctx.faces, regions, detail, light=SKIN_POP, shadow=SKIN_POP_SHADOW, line=OUTLINE,
                      iris=(0.45, 0.28, 0.18), eye_scale=1.15, weight=1.0, cut=0.09, line_sigma=0.012)
    return ops.apply_strength(ctx.image, out, ctx.strength)


render_colorful_cartoon.honours_detail = True  # type: ignore[attr-defined]
render_colorful_cartoon.flat_faces = True  # type: ignore[attr-defined]  # the guard redraws its faces in flat tones
