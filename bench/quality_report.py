"""Tables, targets and the contact sheet of the quality bench (rows from ``quality_run``)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import cv2
import numpy as np
from common import table
from quality_run import BASELINES, FaceRow, ImageRow, PresetResult

CASES = ("group", "bw", "three_quarter", "glasses")
CEL_STYLES = ("anime", "colorful_cartoon", "elegant_chinese", "retro_comic")
PHOTO_LIKE = ("portrait",)
DLIB_SAME = 0.6


def _median(values: Sequence[float]) -> float | str:
    return statistics.median(values) if values else "-"


def _frac(k: int, n: int) -> str:
    return f"{k}/{n}"


def preset_table(results: list[PresetResult]) -> str:
    headers = ["preset", "pipeline found", "pipeline extra faces", "re-detected", "mean / max distance", "rank-1", "over 0.6",
               "style steps (faces)", "photo-blend (faces)", "median whole SSIM", "median face - whole SSIM",
               "median cel coverage", "median texture reduction", "median ms"]
    rows: list[list[object]] = []
    for res in results:
        f, im = res.faces, res.images
        dists = [r.distance for r in f if r.distance is not None]
        found = "-" if res.preset in BASELINES else _frac(sum(bool(r.pipeline_found) for r in f), len(f))
        rows.append([
            res.preset, found, "-" if res.preset in BASELINES else sum(r.extra_faces for r in im),
            _frac(sum(r.redetected for r in f), len(f)),
            f"{statistics.mean(dists):.3f} / {max(dists):.3f}" if dists else "-",
            _frac(sum(r.rank1 for r in f), len(f)), sum(d >= DLIB_SAME for d in dists) + sum(r.distance is None for r in f),
            "-" if res.preset in BASELINES else _frac(sum(r.style_steps > 0 for r in f), len(f)),
            "-" if res.preset in BASELINES else _frac(sum(r.blend_steps > 0 for r in f), len(f)),
            _median([r.whole_ssim for r in im]), _median([r.face_excess for r in f]),
            _median([r.cel for r in im]), _median([r.texture_reduction for r in im]),
            "-" if res.preset in BASELINES else _median([r.ms for r in im]),
        ])
    return table(headers, rows)


def case_table(results: list[PresetResult]) -> str:
    headers = ["preset", *[f"{c} re-detected" for c in CASES], "all faces"]
    rows: list[list[object]] = []
    for res in results:
        row: list[object] = [res.preset]
        for case in (*CASES, None):
            sel = [r for r in res.faces if case is None or case in r.cases]
            row.append(_frac(sum(r.redetected for r in sel), len(sel)) if sel else "-")
        rows.append(row)
    return table(headers, rows)


def _check(ok: bool) -> str:
    return "pass" if ok else "**FAIL**"


def targets(results: list[PresetResult]) -> tuple[str, int, int]:
    """Pass/fail per preset and target (issue 10), with the counts of passes and checks."""
    headers = ["preset", "every face re-detected", "every face < 0.6 (and rank-1)", "median face - whole SSIM <= 0.15",
               "median whole SSIM <= 0.7", "cel coverage >= 0.90", "texture reduction >= 0.70"]
    rows: list[list[object]] = []
    passed = checks = 0
    for res in results:
        if res.preset in BASELINES:
            continue
        f, im = res.faces, res.images
        cells: list[tuple[bool, str] | None] = []
        cells.append((all(r.redetected for r in f), _frac(sum(r.redetected for r in f), len(f))))
        kept = all(r.distance is not None and r.distance < DLIB_SAME and r.rank1 for r in f)
        cells.append((kept, _frac(sum(r.distance is not None and r.distance < DLIB_SAME and r.rank1 for r in f), len(f))))
        excess = statistics.median(r.face_excess for r in f)
        cells.append((excess <= 0.15, f"{excess:.3f}"))
        whole = statistics.median(r.whole_ssim for r in im)
        cells.append(None if res.preset in PHOTO_LIKE else (whole <= 0.7, f"{whole:.3f}"))
        cel = statistics.median(r.cel for r in im)
        tex = statistics.median(r.texture_reduction for r in im)
        cells.append((cel >= 0.9, f"{cel:.3f}") if res.preset in CEL_STYLES else None)
        wants_flat = res.preset in CEL_STYLES or res.preset == "fairy_tale_3d"
        cells.append((tex >= 0.7, f"{tex:.3f}") if wants_flat else None)
        row: list[object] = [res.preset]
        for cell in cells:
            if cell is None:
                row.append("n/a")
                continue
            checks += 1
            passed += cell[0]
            row.append(f"{_check(cell[0])} ({cell[1]})")
        rows.append(row)
    return table(headers, rows), passed, checks


def blend_rate(results: list[PresetResult]) -> tuple[int, int]:
    faces = [r for res in results if res.preset not in BASELINES for r in res.faces]
    return sum(r.blend_steps > 0 for r in faces), len(faces)


def detail_table(results: list[PresetResult]) -> str:
    headers = ["preset", "photo", "face", "pipeline found", "re-detected", "distance", "rank-1", "style / blend steps",
               "lost (pipeline)", "face - whole SSIM"]
    rows: list[list[object]] = []
    for res in results:
        for r in res.faces:
            rows.append([
                res.preset, r.photo, r.face, "-" if r.pipeline_found is None else ("yes" if r.pipeline_found else "NO"),
                "yes" if r.redetected else "NO", "-" if r.distance is None else r.distance,
                "yes" if r.rank1 else "NO", f"{r.style_steps} / {r.blend_steps}", "yes" if r.identity_lost else "no",
                r.face_excess,
            ])
    return table(headers, rows)


def image_table(results: list[PresetResult]) -> str:
    rows: list[list[object]] = []
    for res in results:
        for r in res.images:
            rows.append([res.preset, r.photo, r.whole_ssim, r.cel, r.texture_reduction, r.ms, r.warnings, r.extra_faces])
    headers = ["preset", "photo", "whole SSIM", "cel coverage", "texture reduction", "ms", "warnings", "extra faces"]
    return table(headers, rows)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    out = tile.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 18), (0, 0, 0), -1)
    cv2.putText(out, text, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def contact_sheet(inputs: dict[str, np.ndarray], results: list[PresetResult], order: list[str]) -> np.ndarray:
    """Row 1: the inputs; then one row per preset with its outputs under them (same photo per column)."""
    widths = {pid: inputs[pid].shape[1] for pid in order if pid in inputs}
    gap = 4

    def row(tiles: dict[str, np.ndarray], name: str) -> np.ndarray:
        cells = []
        for pid, width in widths.items():
            tile = tiles.get(pid)
            if tile is None:
                tile = np.full((inputs[pid].shape[0], width, 3), 255, np.uint8)
            cells.append(_label(tile, f"{name}  [{pid}]") if not cells else _label(tile, pid))
            cells.append(np.full((tile.shape[0], gap, 3), 255, np.uint8))
        return np.hstack(cells)

    rows = [row(inputs, "input")]
    for res in results:
        rows.append(np.full((gap, rows[0].shape[1], 3), 255, np.uint8))
        rows.append(row(res.thumbs, res.preset))
    return np.vstack(rows)


def rows_of(results: list[PresetResult]) -> tuple[list[FaceRow], list[ImageRow]]:
    return [r for res in results for r in res.faces], [r for res in results for r in res.images]
