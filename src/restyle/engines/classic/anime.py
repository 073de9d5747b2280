"""Anime (二次元): a cel-animation frame: flat colour regions, one hard shadow tone, crisp outlines.

The picture is cut into regions by a Lab palette (:mod:`ops.cel`); each region is filled with its
own colour, lightened and cleaned, and a second, cool shadow tone where the photo's shading falls
off. The figure gets thin dark outlines along its region boundaries; the scene behind it is a
line-free backdrop in the lit tones only. The face is redrawn in the conventions of cel animation: a
clean two-tone skin, larger crisp eyes with catchlights, solid brows, a nose reduced to a short
stroke and a mouth line, all from the landmarks, plus the photo's main face lines as hard ink;
the hair is a flat mass with a highlight band. ``RenderContext.detail`` adds skin tones and face
lines and draws the eyes closer to their real size.
"""

from __future__ import annotations

import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext
from restyle.engines.classic.ops import cel, celface
from restyle.engines.classic.ops.hair import hair_highlight

LINE = (0.17, 0.10, 0.13)
SHADOW_TINT = (0.78, 0.72, 0.88)  # multiplied into a colour: its cel shadow (cool lavender)
SKIN_LIGHT = (1.0, 0.89, 0.81)
SKIN_SHADOW = (0.93, 0.71, 0.68)
IRIS = (0.36, 0.26, 0.45)
PALETTE_CURVE = [(0.0, 0.1), (0.25, 0.38), (0.6, 0.8), (1.0, 1.0)]
COLOURS = 7
BACKDROP_SPECK = 15  # px at the cel size: the scene behind the figure is a few big shapes
SKIN_DISTANCE = 16.0  # Lab distance from the face's median colour within which a colour is skin
SKIN_ON_HEADS = 0.25  # share of a skin colour's pixels that must lie on the heads


def _skin_labels(cut: cel.Cel, smooth: ops.Float, face: ops.Float, head: ops.Float) -> np.ndarray:
    """True for the palette colours of the people's skin: close to the face's median colour and
    with a fair share of their pixels on the heads (a warm or grey scene can have the face's
    colour too; hands and necks share the face's colour, so they follow)."""
    inside = face > 0.5
    n = len(cut.palette)
    if not inside.any():
        return np.zeros(n, bool)
    median = np.median(cel.to_lab(smooth)[inside], axis=0)
    close = np.sqrt(((cut.palette - median) ** 2).sum(-1)) < SKIN_DISTANCE
    total = np.bincount(cut.labels.ravel(), minlength=n).astype(np.float64)
    on_heads = np.bincount(cut.labels[head > 0.5].ravel(), minlength=n)
    return np.asarray(close & (on_heads >= SKIN_ON_HEADS * np.maximum(total, 1.0)))


def _tones(palette_lab: ops.Float, skin: np.ndarray) -> tuple[ops.Float, ops.Float]:
    """(base, shadow) RGB tables of the palette: lightened and a little more saturated; the
    shadow cool; skin colours as the preset's two skin tones in each one's own colour."""
    rgb = cel.from_lab(palette_lab).reshape(1, -1, 3)
    base = ops.curve(ops.saturate(rgb, 1.3), PALETTE_CURVE)
    shade = ops.affine(base, SHADOW_TINT)
    for i in np.flatnonzero(skin):
        base[0, i], shade[0, i] = celface.own_skin(rgb[0, i], SKIN_LIGHT, SKIN_SHADOW)
    return base.reshape(-1, 3), shade.reshape(-1, 3)


def _cel(ctx: RenderContext, image: ops.Float, regions: ops.Regions) -> ops.Float:
    """Steps 1-5 of :func:`render_anime` (nothing here reads ``detail``: the guard's redraws reuse it)."""
    # 1-2. Regions of the smoothed picture, its hard shadow tone, the figure.
    small, factor = ops.downscale(image, cel.CEL_SHORT_SIDE)
    ws = min(small.shape[:2]) / 512.0
    smooth = ops.edge_preserving_smooth(small, 2.0, 0.10, iterations=3)
    figure = ops.figure_mask(smooth, ops.scale_faces(ctx.faces, factor)) > 0.5
    cut = cel.segment(smooth, COLOURS, ctx.rng, 9, 16.0 * ws, 0.05, focus=figure if ctx.faces else None)
    cut = cel.simplify_backdrop(cut, figure, BACKDROP_SPECK)

    # 3. Flat fills: index = label * 2 + shadow (see Cel.tones).
    face_small = ops.f32(ops.resize_to(regions.face, small.shape))
    head_small = ops.f32(ops.resize_to(regions.head, small.shape))
    base, shade = _tones(cut.palette, _skin_labels(cut, smooth, face_small, head_small))
    table = cut.tones(base, shade)
    index = cut.index()  # the backdrop has no shadow tone and (step 4) no outlines

    # 4. Full size: fills and outlines along the figure's region boundaries.
    s = ctx.scale
    big = cel.upscale_labels(index, image.shape, round(2 * s) | 1)
    out = cel.fill(big, table)
    on_figure = cel.upscale_labels(figure.astype(np.uint8), image.shape, 1) > 0
    edges = cel.boundaries((big // 2).astype(np.uint8), cel.lab_distances(cut.palette, 30.0), 28.0, max(2, round(1.2 * s)))
    celface.paint(out, edges & on_figure, LINE)

    # 5. Hair as a flat mass with a highlight band.
    hair_highlight(out, ctx.faces, regions, 1.25)
    return out


def render_anime(ctx: RenderContext) -> np.ndarray:
    """Steps (1-3 at a small working size): 1. smooth; 2. regions, shadow tone and the figure;
    3. flat fills: figure in two tones, backdrop in the lit tone only; 4. full size: upscale the fills, outlines along the
    figure's region boundaries; 5. hair highlight band; 6. face: two-tone skin, face lines, cel
    features."""
    detail = float(np.clip(ctx.detail, 0.0, 1.0))
    image = ctx.memo("anime.image", lambda: ops.auto_level(ops.to_float(ctx.image)))
    regions = ctx.memo("anime.regions", lambda: ops.face_regions(ctx.image, ctx.faces))
    out = ctx.memo("anime.cel", lambda: _cel(ctx, image, regions))
    celface.draw_face(out, image, ctx.faces, regions, detail, light=SKIN_LIGHT, shadow=SKIN_SHADOW, line=LINE,
                      iris=IRIS, eye_scale=1.2, weight=0.8)
    return ops.apply_strength(ctx.image, out, ctx.strength)


render_anime.honours_detail = True  # type: ignore[attr-defined]
render_anime.flat_faces = True  # type: ignore[attr-defined]  # the guard redraws its faces in flat tones
