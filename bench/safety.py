"""Added latency of the content safety checks, on one thread, beside a do-nothing baseline in the same run.

Image: the ``nudenet`` checker (``NudeNetChecker.check``) on 1024 x 1024 RGB inputs: the astronaut
(safe, allowed) and the drawn bare chest of tests/safety/drawings.py (refused), median of 10 after a
warm-up; baseline: an identity function on the same array. Its steps (letterbox, model, decode) are
timed separately. Text: ``scan_text`` with the shipped lists on 1000-character prompts (English,
Chinese, and one whose only hit is its last word); baseline: a plain ``in`` test of every raw list
term against the lower-cased prompt. Writes bench/reports/safety.md (one table per section).
Usage: python bench/safety.py [--repeats 10] [--report PATH]
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
else:
    from bench.common import REPORTS, machine, single_thread, table

TEXT_LOOPS = 100  # calls per timed text run (one call takes microseconds)


def timed(fn: Callable[[], Any], repeats: int, loops: int = 1) -> tuple[float, float]:
    """Median wall and CPU milliseconds per call of ``fn`` over ``repeats`` runs of ``loops`` calls."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(loops):
            fn()
        wall.append((time.perf_counter() - start) * 1000 / loops)
        cpu.append((time.process_time() - start_cpu) * 1000 / loops)
    return statistics.median(wall), statistics.median(cpu)


def prompts() -> dict[str, str]:
    """Three 1000-character prompts: English, Chinese, and English whose last word is listed."""
    english = ("a watercolor portrait of a smiling woman in a garden, soft morning light, pastel colours, "
               "fine brush strokes, detailed eyes, 4k, studio quality; ")
    chinese = "一位微笑的女士站在花园里，清晨柔和的光线，水彩画风格，细腻的笔触，眼睛细节清晰，"
    return {
        "English, allowed": (english * 20)[:1000],
        "Chinese, allowed": (chinese * 40)[:1000],
        "English, last word listed": (english * 20)[:994] + " gore.",
    }


def image_rows(repeats: int) -> list[list[object]]:
    from restyle.safety import SafetyPolicy
    from restyle.safety.image import NudeNetChecker, decode, letterbox
    from restyle.samples import load_sample
    from tests.safety.drawings import exposed_torso

    checker = NudeNetChecker(threads=1)
    start = time.perf_counter()
    checker.setup()
    load_ms = (time.perf_counter() - start) * 1000
    policy = SafetyPolicy()
    inputs = {
        "astronaut 1024² (allowed)": cv2.resize(load_sample("astronaut"), (1024, 1024), interpolation=cv2.INTER_CUBIC),
        "drawn bare chest 1024² (refused)": cv2.resize(exposed_torso(), (1024, 1024), interpolation=cv2.INTER_CUBIC),
    }
    rows: list[list[object]] = []
    for name, image in inputs.items():
        image = np.ascontiguousarray(image)
        base_wall, base_cpu = timed(lambda image=image: image, repeats)
        wall, cpu = timed(lambda image=image: checker.check(image, stage="input", policy=policy), repeats)
        allowed = checker.check(image, stage="input", policy=policy).allowed
        rows.append([name, "identity (baseline)", base_wall, base_cpu, "", ""])
        rows.append([name, "nudenet check", wall, cpu, wall - base_wall, "allowed" if allowed else "refused"])
        blob, back = letterbox(image)
        output, _ = checker.raw_output(image)
        for step, fn in (
            ("  letterbox", lambda image=image: letterbox(image)),
            ("  model", lambda blob=blob: checker._session.run(None, {checker._input_name: blob})),
            ("  decode", lambda output=output, back=back: decode(output, back, 1024, 1024)),
        ):
            step_wall, step_cpu = timed(fn, repeats)
            rows.append([name, step, step_wall, step_cpu, "", ""])
    rows.append(["(once per process)", "model load", load_ms, "", "", ""])
    return rows


def text_rows(repeats: int) -> list[list[object]]:
    from restyle.safety import SafetyPolicy, scan_text
    from restyle.safety.text import BLOCKLIST_DIR, policy_blocklists

    policy = SafetyPolicy()
    start = time.perf_counter()
    policy_blocklists(policy)  # compiles the shipped lists (and loads the Chinese table) once
    compile_ms = (time.perf_counter() - start) * 1000
    raw_terms = [line.split("#", 1)[0].strip().lower()
                 for kind in ("general", "ip") for line in (BLOCKLIST_DIR / f"{kind}.txt").read_text("utf-8").splitlines()]
    raw_terms = [term for term in raw_terms if term]
    rows: list[list[object]] = []
    for name, prompt in prompts().items():
        base_wall, base_cpu = timed(lambda p=prompt: any(t in p.lower() for t in raw_terms), repeats, TEXT_LOOPS)
        wall, cpu = timed(lambda p=prompt: scan_text(p, policy), repeats, TEXT_LOOPS)
        verdict = scan_text(prompt, policy)
        rows.append([name, f"plain `in`, {len(raw_terms)} terms (baseline)", base_wall, base_cpu, "", ""])
        rows.append([name, "scan_text", wall, cpu, wall - base_wall, "allowed" if verdict.allowed else verdict.kind])
    rows.append(["(once per list version)", "compile shipped lists", compile_ms, "", "", ""])
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--report", type=Path, default=REPORTS / "safety.md")
    args = parser.parse_args(argv)
    single_thread()
    headers = ["input", "step", "wall ms", "CPU ms", "added wall ms", "verdict"]
    images = table(headers, image_rows(args.repeats))
    texts = table(headers, text_rows(args.repeats))
    report = f"""# Safety and label checks: added latency

Machine: {machine()}. One thread (OMP 1, OpenCV 1, onnxruntime 1 intra-op thread, no spinning); median of
{args.repeats} runs after a warm-up; wall and CPU milliseconds (the machine is shared by other jobs: CPU time
is the steadier figure). "added" is the check's wall time minus the baseline's in the same run.
`python bench/safety.py`.

## Image checks (NudeNet, 1024 x 1024 input)

{images}

## Prompt checks (shipped blocklists, 1000-character prompts; per call, {TEXT_LOOPS} calls per run)

{texts}
"""
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
