"""Retro comic (复古漫画): a cel in aged print colours, bold ink outlines, Ben-Day dots in the
shadows, cream paper."""

from __future__ import annotations

import numpy as np

from restyle.engines.classic import ops
from restyle.engines.classic.context import RenderContext
from restyle.engines.classic.ops import cel, celface

PAPER = (0.96, 0.91, 0.78)
INK = (0.16, 0.11, 0.10)
PRINT_SKIN, PRINT_SKIN_SHADOW = (0.96, 0.80, 0.66), (0.86, 0.58, 0.46)
# Faded process colours of an old print: the k-means palette is pulled towards the nearest one.
PRINT_COLOURS = np.array([
    PAPER, (0.84, 0.34, 0.25), (0.27, 0.42, 0.60), (0.92, 0.76, 0.38), (0.91, 0.70, 0.57), INK,
    (0.62, 0.66, 0.66),
], np.float32)


def _aged_palette(palette: ops.Float, pull: float) -> ops.Float:
    """Each palette colour faded a little and pulled towards its nearest print colour."""
    d = ((palette[:, None, :] - PRINT_COLOURS[None, :, :]) ** 2).sum(-1)
    target = PRINT_COLOURS[d.argmin(1)]
    luma = palette @ np.array(ops.LUMA, np.float32)
    faded = luma[:, None] + (palette - luma[:, None]) * 0.8
    return ops.f32(faded + (target - faded) * pull)


def _flat_print(ctx: RenderContext, image: ops.Float, regions: ops.Regions) -> tuple[ops.Float, np.ndarray]:
    """Steps 1-3 of :func:`comic_cel` (nothing here reads ``detail``)."""
    s = ctx.scale

    # 1-2. Flat aged colours in regions.
    small, factor = ops.downscale(image, cel.CEL_SHORT_SIDE)
    ws = min(small.shape[:2]) / 512.0
    flat = ops.edge_preserving_smooth(small, 2.0, 0.12, iterations=3)
    figure = ops.figure_mask(flat, ops.scale_faces(ctx.faces, factor)) > 0.5
    cut = cel.segment(flat, 8, ctx.rng, 9, 16.0 * ws, 0.06, focus=figure if ctx.faces else None)
    cut = cel.simplify_backdrop(cut, figure, 13)
    aged = _aged_palette(cel.from_lab(cut.palette), 0.45)
    big = cel.upscale_labels(cut.index(), image.shape, round(2 * s) | 1)
    labels = (big >> 1).astype(np.uint8)
    out = cel.fill(labels, aged)
    shadow = (big & 1) > 0
    if regions.any:
        shadow &= regions.face < 0.3

    # 3. Bold outlines round the regions.
    edges = cel.boundaries(labels, cel.lab_distances(cut.palette, 30.0), 16.0, max(4, round(2.4 * s)))
    celface.paint(out, edges, INK)
    return out, shadow


def comic_cel(ctx: RenderContext) -> tuple[ops.Float, np.ndarray]:
    """The comic before its halftone and paper: (flat aged-print cel with ink outlines and the
    face, True where the shadow tone falls outside the face, for the dots).

    Steps: 1. regions of the smoothed picture (Lab palette) and a hard shadow tone, at working
    size; 2. flat aged print colours, upscaled; 3. bold ink outlines along the region boundaries;
    4. the face: flat print skin tones from its shading, its main lines, eyes, brows, nose and
    mouth in ink. ``RenderContext.detail`` adds skin tones on the face and lightens the features.
    """
    detail = float(np.clip(ctx.detail, 0.0, 1.0))
    image = ctx.memo("comic.image", lambda: ops.auto_level(ops.to_float(ctx.image)))
    regions = ctx.memo("comic.regions", lambda: ops.face_regions(ctx.image, ctx.faces))
    out, shadow = ctx.memo("comic.flat", lambda: _flat_print(ctx, image, regions))

    # 4. The face in print skin tones and ink.
    celface.draw_face(out, image, ctx.faces, regions, detail, light=PRINT_SKIN, shadow=PRINT_SKIN_SHADOW, line=INK,
                      iris=(0.35, 0.42, 0.55), eye_scale=1.0, weight=1.0, cut=0.09, line_sigma=0.012,
                      line_threshold=0.018)
    return out, shadow


def render_retro_comic(ctx: RenderContext) -> np.ndarray:
    """Steps: 1. the cel (:func:`comic_cel`); 2. Ben-Day dots in its shadow tone; 3. cream paper
    and a fine grain."""
    out, shadow = comic_cel(ctx)
    dots = ctx.memo("comic.dots", lambda: ops.halftone(ops.f32(shadow) * np.float32(0.45),
                                                      cell=max(4.0, 6.0 * ctx.scale), angle=45.0) > 0.5)
    celface.paint(out, dots, INK)
    paper = ctx.memo("comic.paper", lambda: ops.paper_texture(out.shape, ctx.rng, grain=0.02, mottle=0.02))
    out = ops.affine(ops.times(out, paper), tuple(c / 0.96 for c in PAPER))
    return ops.apply_strength(ctx.image, out, ctx.strength)


render_retro_comic.honours_detail = True  # type: ignore[attr-defined]
render_retro_comic.flat_faces = True  # type: ignore[attr-defined]  # the guard redraws its faces in flat tones
