"""Identity guard and preset looks: per preset, through the whole pipeline on the quality bench's
real photos (bench/photos.py; ``--samples`` for the two sample portraits, a black-and-white copy and
a three-person group instead), the whole-image SSIM to the input, per hand-labelled face the
face-vs-whole SSIM gap ("the face looks as stylized as the rest", bench/style_metrics.py), and from
the pipeline's own face reports (each face re-detected in the output at its place) identity and how
many style steps and photo-blend steps the guard ran. Writes bench/reports/guard_style.md.
Usage: python bench/guard_style.py [--styles a,b] [--side 768] [--samples]
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from common import REPORTS, machine, single_thread, square, table


@dataclass
class Tally:
    """What one preset did over all photos."""

    whole: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    distances: list[float] = field(default_factory=list)
    faces: int = 0
    passed: int = 0
    redetected: int = 0
    style_steps: int = 0
    blend_faces: int = 0


Box = tuple[int, int, int, int]


def bench_photos(side: int) -> dict[str, tuple[np.ndarray, list[Box]]]:
    """The quality bench's photos at most ``side`` px, with their hand-labelled face boxes."""
    from photos import load_photos

    return {p.id: (p.image, [f.box for f in p.faces]) for p in load_photos(max_side=side)}


def sample_photos(side: int) -> dict[str, tuple[np.ndarray, list[Box]]]:
    """The sample portraits (faces from the pipeline's detector, as labelled boxes)."""
    from restyle.faces import detect_faces

    return {name: (image, [f.box for f in detect_faces(image)]) for name, image in photos(side).items()}


def photos(side: int) -> dict[str, np.ndarray]:
    """The sample portraits, a black-and-white copy and a three-person group, about ``side`` px."""
    from restyle.samples import load_sample

    astronaut, grace = square(load_sample("astronaut"), side), load_sample("grace_hopper")
    h, w = grace.shape[:2]
    grace = cv2.resize(grace, (side, round(side * h / w)), interpolation=cv2.INTER_AREA)
    bw = cv2.cvtColor(cv2.cvtColor(astronaut[:, ::-1], cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    third = side * 3 // 4
    member = square(load_sample("astronaut"), third)
    group = np.concatenate([member, square(grace, third), cv2.cvtColor(
        cv2.cvtColor(member[:, ::-1], cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)], axis=1)
    return {"astronaut": astronaut, "grace_hopper": grace, "astronaut_bw": np.ascontiguousarray(bw),
            "group_of_3": np.ascontiguousarray(group)}


def run(styles: list[str] | None, side: int, samples: bool) -> str:
    from style_metrics import face_ssim_excess, whole_ssim

    from restyle.domain import GenerateRequest, ImageSource
    from restyle.errors import OutputImageUnsafe
    from restyle.imaging.codecs import encode_image
    from restyle.pipeline import Pipeline

    pipeline = Pipeline()
    pipeline.setup()
    names = styles or [p.name for p in pipeline.presets()]
    chosen = sample_photos(side) if samples else bench_photos(side)
    inputs = {name: (image, boxes, encode_image(image)) for name, (image, boxes) in chosen.items()}
    rows = []
    for style in names:
        tally = Tally()
        for image, boxes, data in inputs.values():
            request = GenerateRequest(image=ImageSource(data=data), style=style, seed=1, allow_no_face=True)
            try:
                result = pipeline.render(request)
            except OutputImageUnsafe:  # a false positive of the content check: measure the picture anyway
                result = pipeline.render(request, safety=replace(pipeline.default_safety, output_image=False))
            if result.image.shape != image.shape:
                continue  # the output rules resized it; SSIM needs the same geometry
            whole = whole_ssim(image, result.image)
            tally.whole.append(whole)
            for box in boxes:
                if box[2] - box[0] >= 16 and box[3] - box[1] >= 16:
                    tally.gaps.append(face_ssim_excess(image, result.image, box, whole))
            for face in result.faces:
                tally.faces += 1
                tally.passed += int(face.guard_passed)
                tally.redetected += int(face.detected_in_output)
                tally.style_steps += face.style_steps
                tally.blend_faces += int(face.blend_steps > 0)
                if face.identity_distance is not None:
                    tally.distances.append(face.identity_distance)
        rows.append([
            style, statistics.median(tally.whole), statistics.median(tally.gaps), max(tally.gaps),
            statistics.median(tally.distances) if tally.distances else "-", f"{tally.passed}/{tally.faces}",
            f"{tally.redetected}/{tally.faces}",
            tally.style_steps, f"{tally.blend_faces}/{tally.faces}",
        ])
    headers = ["preset", "SSIM whole (median)", "face - whole SSIM (median)", "face - whole (max)",
               "identity (median)", "kept", "re-detected", "style steps", "faces with photo blend"]
    return "\n".join([
        "# Identity guard and preset looks",
        "",
        f"Machine: {machine()}. Photos: {', '.join(inputs)} (at most {side} px); seed 1.",
        "Targets (issue 10): whole-image SSIM <= 0.7 but for `portrait`; face-vs-whole gap median <= 0.15;",
        "photo-blend steps on at most 5% of faces. The gap is measured on the hand-labelled faces; identity,",
        "`kept` (the guard passed: under 0.5, re-detected at its place unless the region detector cannot find",
        "it in the photo either) and the steps on the faces the pipeline found.",
        "",
        table(headers, rows),
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--styles", default="")
    parser.add_argument("--side", type=int, default=768)
    parser.add_argument("--samples", action="store_true", help="the sample portraits instead of the photo set")
    args = parser.parse_args()
    single_thread()
    report = run([s for s in args.styles.split(",") if s] or None, args.side, args.samples)
    (REPORTS / "guard_style.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
