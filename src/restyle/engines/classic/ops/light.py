"""Light and texture: relief, bloom, vignettes, noise, paper, halftone, masks, normal lighting."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from restyle.engines.classic.ops.core import Float, affine, blur, f32, luminance, resize_to, screen
from restyle.engines.classic.ops.regions import subject_mask
from restyle.faces.types import Face

# --- light -------------------------------------------------------------------------------------


def relief(gray: Float, sigma: float, angle: float = 135.0) -> Float:
    """Directional light on the surface whose height is ``gray`` (blurred by ``sigma``): signed,
    positive on slopes facing a light from ``angle`` degrees (0 = right, 90 = top), about unit scale."""
    g = blur(gray, sigma)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    t = np.deg2rad(angle)
    # Image y points down, so a light "above" is at negative y.
    lit = gx * np.float32(-np.cos(t)) + gy * np.float32(np.sin(t))
    return f32(lit * np.float32(max(sigma, 1.0)))


def bloom(image: Float, threshold: float, sigma: float, amount: float) -> Float:
    """Glow: the parts brighter than ``threshold``, blurred (at 1/4 size), screened on top."""
    h, w = image.shape[:2]
    small = f32(cv2.resize(image, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA))
    bright = affine(small, 1.0 / max(1e-3, 1.0 - threshold), -threshold / max(1e-3, 1.0 - threshold))
    glow = f32(resize_to(blur(np.maximum(bright, 0.0), sigma / 4.0), image.shape))
    return screen(image, np.minimum(glow * np.float32(amount), 1.0))


def vignette(shape: tuple[int, ...], strength: float, radius: float = 0.5, softness: float = 0.6) -> Float:
    """Multiplier darkening towards the corners: 1 inside ``radius`` (of the half-diagonal),
    down to ``1 - strength`` at the corners over ``softness``."""
    h, w = shape[:2]
    ys = (np.arange(h, dtype=np.float32) - h / 2.0) / np.float32(h / 2.0)
    xs = (np.arange(w, dtype=np.float32) - w / 2.0) / np.float32(w / 2.0)
    r = np.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2) * np.float32(1.0 / np.sqrt(2.0))
    t = np.clip((r - np.float32(radius)) / np.float32(max(1e-3, softness)), 0.0, 1.0)
    return f32(1.0 - np.float32(strength) * t * t * (3.0 - 2.0 * t))


def radial(shape: tuple[int, ...], centre: tuple[float, float], radius: float) -> Float:
    """Soft disc: 1 at ``centre`` (x, y), falling smoothly to 0 at ``radius`` pixels."""
    h, w = shape[:2]
    ys = np.arange(h, dtype=np.float32)[:, None] - np.float32(centre[1])
    xs = np.arange(w, dtype=np.float32)[None, :] - np.float32(centre[0])
    t = np.clip(np.sqrt(xs * xs + ys * ys) * np.float32(1.0 / max(radius, 1.0)), 0.0, 1.0)
    return f32(1.0 - t * t * (3.0 - 2.0 * t))


# --- texture -----------------------------------------------------------------------------------


def noise(shape: tuple[int, ...], rng: np.random.Generator, scale: float = 1.0) -> Float:
    """Smooth Gaussian noise (std about 1, less once interpolated) with features ``scale`` px wide."""
    h, w = shape[:2]
    step = max(1.0, scale)
    sh, sw = max(2, int(np.ceil(h / step)) + 1), max(2, int(np.ceil(w / step)) + 1)
    small = rng.standard_normal((sh, sw), dtype=np.float32)
    if step == 1.0:
        return f32(small[:h, :w])
    return f32(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC))


def paper_texture(shape: tuple[int, ...], rng: np.random.Generator, grain: float = 0.04,
                  mottle: float = 0.03, fibres: int = 0) -> Float:
    """Paper as a multiplier around 1: soft grain, low-frequency mottling and optional fibres.

    Grain is drawn at half resolution (cheaper, and paper grain is soft anyway); fibres are
    ``fibres`` short light and dark strokes about 1/25 of the short side long.
    """
    h, w = shape[:2]
    tex = np.float32(grain) * noise(shape, rng, 2.0) + np.float32(mottle) * noise(shape, rng, min(h, w) / 10)
    tex += np.float32(1.0)
    if fibres:
        layer = np.zeros((h, w), np.float32)
        x0, y0 = rng.uniform(0, w, fibres), rng.uniform(0, h, fibres)
        ang = rng.uniform(0, np.pi, fibres)
        length = rng.uniform(0.3, 1.0, fibres) * min(h, w) / 25.0
        value = rng.choice(np.array([-1.0, 1.0]), fibres) * rng.uniform(0.3, 1.0, fibres)
        for i in range(fibres):
            end = (int(x0[i] + length[i] * np.cos(ang[i])), int(y0[i] + length[i] * np.sin(ang[i])))
            cv2.line(layer, (int(x0[i]), int(y0[i])), end, float(value[i]), 1, cv2.LINE_AA)
        tex = tex + np.float32(0.05) * blur(layer, 0.6)
    return f32(tex)


@lru_cache(maxsize=8)
def _screen_distance(h: int, w: int, cell: float, angle: float) -> Float:
    theta = np.deg2rad(angle)
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    u = (xs * np.float32(np.cos(theta)) + ys * np.float32(np.sin(theta))) / np.float32(cell)
    v = (ys * np.float32(np.cos(theta)) - xs * np.float32(np.sin(theta))) / np.float32(cell)
    fu, fv = u - np.floor(u) - 0.5, v - np.floor(v) - 0.5
    out = f32(np.sqrt(fu * fu + fv * fv) * np.float32(cell))
    out.setflags(write=False)
    return out


def halftone(darkness: Float, cell: float, angle: float = 45.0) -> Float:
    """Round-dot screen: ink coverage (1 = ink) whose dot area follows ``darkness`` (0..1).

    Dots sit on a grid of ``cell`` pixels rotated by ``angle`` degrees, anti-aliased over a pixel.
    """
    h, w = darkness.shape[:2]
    dist = _screen_distance(h, w, float(cell), float(angle))
    radius = cv2.sqrt(np.clip(darkness, 0.0, 1.0) * np.float32(cell * cell / np.pi))
    return f32(np.clip(radius - dist + 0.5, 0.0, 1.0))


def scanlines(shape: tuple[int, ...], period: float, depth: float) -> Float:
    """Horizontal scanlines as a multiplier between 1 and ``1 - depth``, ``period`` px apart."""
    h, w = shape[:2]
    wave = 0.5 + 0.5 * np.cos(np.arange(h, dtype=np.float32) * np.float32(2.0 * np.pi / period))
    rows = (1.0 - np.float32(depth) * wave).astype(np.float32)
    return f32(np.repeat(rows[:, None], w, axis=1))


# --- masks -------------------------------------------------------------------------------------


def smoothstep(edge0: float, edge1: float, x: Float) -> Float:
    """0 below ``edge0``, 1 beyond ``edge1`` (either order), a smooth ramp between."""
    t = np.clip((x - np.float32(edge0)) * np.float32(1.0 / (edge1 - edge0)), 0.0, 1.0)
    return f32(t * t * (3.0 - 2.0 * t))


def figure_mask(image: Float, faces: list[Face], radius: float = 0.0) -> Float:
    """Person mask of a (working-size) image without segmentation: :func:`subject_mask`, its
    soft edge snapped to the image's own edges by a guided filter (``radius`` px, default 1/40 of
    the short side). Cheap (a few ms at 512 px); all ones-ish centred ellipse without faces."""
    rough = subject_mask(image.shape, faces, feather=0.15)
    r = max(2, round(radius or min(image.shape[:2]) / 40.0))
    guide = luminance(image)
    snapped = cv2.ximgproc.guidedFilter(guide, rough, r, 4e-3)
    sharp = np.clip((f32(snapped) - 0.5) * 2.5 + 0.5, 0.0, 1.0)
    return f32(blur(f32(sharp), 0.6))


def normal_light(height: Float, sigma: float, depth: float, light: tuple[float, float, float] = (-0.45, -0.55, 0.7),
                 shininess: float = 24.0) -> tuple[Float, Float]:
    """Lambert and Blinn-Phong light on the surface whose height is ``height`` blurred by ``sigma``.

    ``depth`` scales the slopes (bigger = rounder relief). The light (x right, y down, z towards
    the viewer) defaults to the upper left. Returns (diffuse 0..1, 1 on a flat surface facing the
    viewer is ``light[2]`` normalised; specular 0..1)."""
    g = blur(height, sigma)
    k = np.float32(depth * max(sigma, 1.0))
    nx = f32(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)) * -k
    ny = f32(cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)) * -k
    inv = f32(1.0 / np.sqrt(nx * nx + ny * ny + np.float32(1.0)))
    lx, ly, lz = (np.asarray(light, np.float32) / np.float32(np.linalg.norm(light))).tolist()
    diffuse = f32(np.clip((nx * np.float32(lx) + ny * np.float32(ly) + np.float32(lz)) * inv, 0.0, 1.0))
    hx, hy, hz = lx, ly, lz + 1.0
    hn = float(np.sqrt(hx * hx + hy * hy + hz * hz))
    spec = np.clip((nx * np.float32(hx / hn) + ny * np.float32(hy / hn) + np.float32(hz / hn)) * inv, 0.0, 1.0)
    return diffuse, f32(spec ** np.float32(shininess))
