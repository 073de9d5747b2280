"""Engine speed: per preset, median end-to-end ms at 512², 1024² and 2048² on one thread, the split
per pipeline step, and peak RSS. Each (preset, size) runs in a fresh process so its peak RSS is its own.
Writes bench/reports/engine_speed.md.  Usage: python bench/engine_speed.py [--repeats 3] [--sizes 512,1024,2048]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import time
from typing import Any

from common import REPORTS, machine, single_thread, square, table

from restyle.pipeline import STEPS


def _run(preset: str, side: int, repeats: int, queue: Any) -> None:
    single_thread()
    from restyle.domain import GenerateRequest, ImageSource
    from restyle.imaging.codecs import encode_image
    from restyle.pipeline import Pipeline
    from restyle.samples import load_sample

    pipeline = Pipeline()
    pipeline.setup()
    data = encode_image(square(load_sample("astronaut"), side))
    request = GenerateRequest(image=ImageSource(data=data), style=preset, seed=1)
    pipeline.render(request)  # warm caches
    totals, cpu, steps = [], [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = pipeline.render(request)
        totals.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        steps.append(result.timings_ms)
    split = {k: statistics.median(s[k] for s in steps) for k in steps[0] if k != "total"}
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"ms": statistics.median(totals), "best": min(totals), "cpu_ms": statistics.median(cpu),
               "split": split, "rss_mb": rss_mb})


def measure(preset: str, side: int, repeats: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(preset, side, repeats, queue))
    proc.start()
    out: dict[str, Any] = queue.get(timeout=600)
    proc.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", default="512,1024,2048")
    parser.add_argument("--presets", default="")
    args = parser.parse_args()
    single_thread()
    from restyle.pipeline import Pipeline

    sizes = [int(s) for s in args.sizes.split(",")]
    presets = args.presets.split(",") if args.presets else [p.name for p in Pipeline().presets()]
    rows, split_rows = [], []
    for preset in presets:
        results = {side: measure(preset, side, args.repeats) for side in sizes}
        row: list[object] = [preset]
        for side in sizes:
            row.append(results[side]["ms"])
        mp = 1024 * 1024 / 1e6
        if 1024 in results:
            one = results[1024]
            row += [one["ms"] / mp, one["best"] / mp, one["cpu_ms"] / mp]
        else:
            row += ["-", "-", "-"]
        row.append(max(r["rss_mb"] for r in results.values()))
        rows.append(row)
        if 1024 in results:
            split = results[1024]["split"]
            split_rows.append([preset] + [split.get(k, 0.0) for k in list(STEPS)])
        print(row, flush=True)
    headers = ["preset"] + [f"{s}² ms" for s in sizes] + [
        "ms per MP (1024², median)", "best", "CPU ms per MP", "peak RSS MB"
    ]
    text = "\n\n".join([
        "# Engine speed (bench/engine_speed.py)",
        f"Machine: {machine()}. One thread (OMP_NUM_THREADS=1, cv2.setNumThreads(1)); median of "
        f"{args.repeats} runs after one warm-up; input: astronaut, centre square; end to end = decode, "
        "face detection, embeddings, engine, retouch, identity guard, PNG encode. Target: at most 500 ms per MP. "
        "The cores are shared with other jobs: 'best' (fastest run) and 'CPU ms' (process CPU time) move less "
        "with their load than the median wall time.",
        table(headers, rows),
        "## Split per step at 1024² (median ms)",
        table(["preset"] + list(STEPS), split_rows),
    ])
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "engine_speed.md").write_text(text + "\n", encoding="utf-8")
    print(text)



if __name__ == "__main__":
    main()
