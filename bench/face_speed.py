"""Face analysis speed on one thread: detection, landmarks, embeddings (dlib vs ONNX) and the guard's
per-face measure (re-detection in the region plus an embedding), at 1 MP and 2 MP, median of 5.

The baseline is the code path before issue 10, still callable: ``detect_faces(detector="hog")`` and
dlib's own embedder; the new path is the ``auto`` cascade and the ONNX embedder. Both run in the same
process, interleaved, so machine load hits them alike; wall and CPU time are both reported (the
machine is shared). Writes bench/reports/face_speed.md.
Usage: python bench/face_speed.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

if __name__ == "__main__":  # run as a script: the repository root and src/ on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from common import REPORTS, machine, single_thread, table


def _inputs() -> dict[str, np.ndarray]:
    from restyle.samples import load_sample

    astronaut = load_sample("astronaut")
    grace = cv2.resize(load_sample("grace_hopper"), (512, 600))[44:556]
    pair = np.concatenate([astronaut, grace], axis=1)
    out: dict[str, np.ndarray] = {}
    for megapixels in (1, 2):
        side = int(round((megapixels * 1_000_000) ** 0.5))
        out[f"portrait {megapixels} MP"] = cv2.resize(astronaut, (side, side), interpolation=cv2.INTER_CUBIC)
        width = int(round((megapixels * 2_000_000) ** 0.5))
        out[f"two people {megapixels} MP"] = cv2.resize(pair, (width, width // 2), interpolation=cv2.INTER_CUBIC)
    return {k: np.ascontiguousarray(v) for k, v in out.items()}


def _timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``fn`` over ``repeats`` runs (after one warm-up)."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def _case(image: np.ndarray, repeats: int) -> dict[str, tuple[float, float]]:
    from restyle.faces import detect_face_in_region, detect_faces, landmarks_for_box
    from restyle.faces.embed import face_chip
    from restyle.faces.embedder import embed_chips

    faces = detect_faces(image, detector="hog")
    chips = np.stack([face_chip(image, f) for f in faces])

    def guard_measure(embedder: str) -> None:
        # what the guard does per face and per candidate image: re-detect at its place, embed there
        for face in faces:
            found = detect_face_in_region(image, face.box) or landmarks_for_box(image, face.box)
            embed_chips(face_chip(image, found)[None], embedder=embedder)

    steps: dict[str, Callable[[], Any]] = {
        "detect hog (baseline)": lambda: detect_faces(image, detector="hog"),
        "detect auto": lambda: detect_faces(image),
        "landmarks": lambda: [landmarks_for_box(image, f.box) for f in faces],
        "embed dlib (baseline)": lambda: [embed_chips(c[None], embedder="dlib") for c in chips],
        "embed onnx": lambda: [embed_chips(c[None], embedder="onnx") for c in chips],
        "embed onnx batch": lambda: embed_chips(chips, embedder="onnx"),
        "guard measure dlib (baseline)": lambda: guard_measure("dlib"),
        "guard measure onnx": lambda: guard_measure("onnx"),
    }
    out = {name: _timed(fn, repeats) for name, fn in steps.items()}
    out["faces"] = (float(len(faces)), float(len(detect_faces(image))))
    return out


CASES = ("group", "bw", "three_quarter", "glasses", "tilted")


def labelled_match(found: tuple[float, ...], label: tuple[float, ...]) -> bool:
    """A detection is the labelled face when the boxes overlap (IoU 0.3) or each holds the other's centre
    (labels run brow to chin, HOG boxes a little higher and wider)."""
    from restyle.faces.hits import box_overlap

    if box_overlap(found, label) >= 0.3:
        return True
    fx, fy = (found[0] + found[2]) / 2, (found[1] + found[3]) / 2
    lx, ly = (label[0] + label[2]) / 2, (label[1] + label[3]) / 2
    return (label[0] <= fx <= label[2] and label[1] <= fy <= label[3]
            and found[0] <= lx <= found[2] and found[1] <= ly <= found[3])


def score(faces: list[Any], labels: list[tuple[float, ...]]) -> tuple[list[bool], int]:
    """Per label whether it was found (one detection per label), and the detections matching none."""
    boxes = [tuple(float(v) for v in f.box) for f in faces]
    used: set[int] = set()
    hits = []
    for label in labels:
        match = next((j for j, b in enumerate(boxes) if j not in used and labelled_match(b, label)), None)
        hits.append(match is not None)
        if match is not None:
            used.add(match)
    return hits, len(boxes) - len(used)


def case_hits(results: list[tuple[Any, list[bool]]], case: str) -> list[bool]:
    """The found flags of the labelled faces of ``case``: a face attribute, or ``group`` photos."""
    out = []
    for photo, hits in results:
        for face, hit in zip(photo.faces, hits, strict=True):
            if case in face.attributes or (case == "group" and case in photo.attributes):
                out.append(hit)
    return out


def _detection_quality() -> str:
    """Recall and precision of each detector on the labelled set, overall and per hard case."""
    from bench.photos import load_photos
    from restyle.faces import detect_faces
    from restyle.faces.embed import face_chip
    from restyle.faces.embedder import embed_chips

    photos = load_photos(max_side=1400)
    chips = np.stack([face_chip(p.image, f) for p in photos for f in detect_faces(p.image)])
    gap = float(np.abs(embed_chips(chips, embedder="onnx") - embed_chips(chips, embedder="dlib")).max())
    rows = []
    for detector in ("hog", "auto"):
        results, false, cpu = [], 0, 0.0
        for photo in photos:
            start = time.process_time()
            faces = detect_faces(photo.image, detector=detector)
            cpu += (time.process_time() - start) * 1000
            hits, wrong = score(faces, [tuple(float(v) for v in f.box) for f in photo.faces])
            results.append((photo, hits))
            false += wrong
        found = sum(sum(h) for _, h in results)
        labelled = sum(len(h) for _, h in results)
        missed = ", ".join(f"{p.id}#{i}" for p, h in results for i, hit in enumerate(h) if not hit)
        row: list[object] = [detector, f"{found}/{labelled}", found / labelled, found / max(found + false, 1)]
        for case in CASES:
            flags = case_hits(results, case)
            row.append(f"{sum(flags)}/{len(flags)}")
        rows.append([*row, cpu / len(photos), missed or "-"])
    return "\n".join([
        f"## Detection on the labelled set ({len(photos)} photos of bench/data/photos.tsv, faces.tsv)",
        "",
        "A detection matches a labelled face when the boxes overlap (IoU 0.3) or each holds the other's "
        "centre; one detection per face; unmatched detections are false faces. Photos scaled to at most "
        "1400 px.",
        "",
        table(["detector", "found", "recall", "precision", *CASES, "CPU ms / photo", "missed"], rows),
        "",
        f"ONNX embedder against dlib's on the {len(chips)} face chips `auto` finds in the set: largest "
        f"difference of any component {gap:.1e} (tests assert < 1e-4).",
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    single_thread()
    results = {name: _case(image, args.repeats) for name, image in _inputs().items()}
    step_rows, total_rows = [], []
    for name, r in results.items():
        for step, (wall, cpu) in r.items():
            if step != "faces":
                step_rows.append([name, step, wall, cpu])
        before = [r["detect hog (baseline)"], r["embed dlib (baseline)"], r["guard measure dlib (baseline)"]]
        after = [r["detect auto"], r["embed onnx batch"], r["guard measure onnx"]]
        wall_b, cpu_b = sum(w for w, _ in before), sum(c for _, c in before)
        wall_a, cpu_a = sum(w for w, _ in after), sum(c for _, c in after)
        total_rows.append([name, f"{int(r['faces'][0])} / {int(r['faces'][1])}", wall_b, wall_a,
                           wall_b / wall_a, cpu_b, cpu_a, cpu_b / cpu_a])
    report = "\n".join([
        "# Face analysis speed",
        "",
        f"Machine: {machine()}. One thread (OMP 1, OpenCV 1, onnxruntime 1 intra-op thread); median of "
        f"{args.repeats} runs after a warm-up; wall and CPU milliseconds (the machine is shared, CPU time "
        "is the steadier figure). Inputs: `skimage` astronaut (one face) and astronaut beside Grace Hopper "
        "(two faces), resized to 1 and 2 megapixels. `python bench/face_speed.py`.",
        "",
        "Face analysis per photo = detection + input embeddings + one guard measure per face "
        "(re-detection at the face's place and an embedding there). Baseline: `detector=\"hog\"` and "
        "dlib's embedder, one face at a time; new: the `auto` cascade and the ONNX embedder, input faces "
        "in one batch.",
        "",
        table(["input", "faces hog / auto", "baseline ms", "new ms", "speed-up", "baseline CPU ms",
               "new CPU ms", "speed-up (CPU)"], total_rows),
        "",
        "Per step:",
        "",
        table(["input", "step", "wall ms", "CPU ms"], step_rows),
        "",
        _detection_quality(),
    ])
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "face_speed.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
