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
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
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
    ])
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "face_speed.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
