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
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from common import REPORTS, machine, single_thread, square, table

from restyle.pipeline import STEPS


def _no_reuse() -> None:
    """The same-run baseline: the guard's redraws re-render every step (no RenderContext.memo reuse)
    and the face masks are drawn afresh each time (no shared crop masks)."""
    import restyle.faces.masks as masks
    from restyle.engines.classic.context import RenderContext

    RenderContext.memo = lambda self, key, compute: compute()  # type: ignore[method-assign]
    masks._CACHED = 0


def _run(preset: str, side: int, repeats: int, queue: Any, baseline: bool = False) -> None:
    single_thread()
    if baseline:
        _no_reuse()
    import restyle.pipeline as pipeline_module
    from restyle.domain import GenerateRequest, ImageSource
    from restyle.imaging.codecs import encode_image
    from restyle.pipeline import Pipeline
    from restyle.samples import load_sample

    guard_cpu: list[float] = []
    guard = getattr(pipeline_module, "identity_guard")  # noqa: B009 - patched below

    def timed_guard(*args: Any, **kwargs: Any) -> Any:  # the guard's CPU time (the step split is wall time)
        start = time.process_time()
        try:
            return guard(*args, **kwargs)
        finally:
            guard_cpu.append((time.process_time() - start) * 1000)

    setattr(pipeline_module, "identity_guard", timed_guard)  # noqa: B010 - the module-level name the pipeline calls
    pipeline = Pipeline()
    pipeline.setup()
    data = encode_image(square(load_sample("astronaut"), side))
    request = GenerateRequest(image=ImageSource(data=data), style=preset, seed=1)
    pipeline.render(request)  # warm caches
    guard_cpu.clear()
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
               "split": split, "rss_mb": rss_mb, "guard_cpu_ms": statistics.median(guard_cpu)})


def measure(preset: str, side: int, repeats: int, baseline: bool = False) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(preset, side, repeats, queue, baseline))
    proc.start()
    out: dict[str, Any] = queue.get(timeout=3600)
    proc.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", default="512,1024,2048")
    parser.add_argument("--presets", default="")
    parser.add_argument("--jobs", type=int, default=1,
                        help="measurements run side by side (each in its own process; on a loaded machine "
                             "the CPU-time columns stay comparable, the wall-time ones do not)")
    args = parser.parse_args()
    single_thread()
    from restyle.pipeline import Pipeline

    sizes = [int(s) for s in args.sizes.split(",")]
    presets = args.presets.split(",") if args.presets else [p.name for p in Pipeline().presets()]
    rows, split_rows, base_rows = [], [], []
    runs = [(p, side, False) for p in presets for side in sizes] + [(p, 1024, True) for p in presets if 1024 in sizes]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        measured = dict(zip(runs, pool.map(lambda r: measure(r[0], r[1], args.repeats, baseline=r[2]), runs),
                            strict=True))
    for preset in presets:
        results = {side: measured[(preset, side, False)] for side in sizes}
        if 1024 in results:
            base = measured[(preset, 1024, True)]
            one = results[1024]
            base_rows.append([preset, base["cpu_ms"], one["cpu_ms"], base["cpu_ms"] / one["cpu_ms"],
                              base["guard_cpu_ms"], one["guard_cpu_ms"],
                              base["guard_cpu_ms"] / max(one["guard_cpu_ms"], 1e-3)])
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
        f"Machine: {machine()}. {args.jobs} measurement processes side by side. One thread each "
        "(OMP_NUM_THREADS=1, cv2.setNumThreads(1)); median of "
        f"{args.repeats} runs after one warm-up; input: astronaut, centre square; end to end = decode, "
        "face detection, embeddings, engine, retouch, identity guard, safety checks, labels, PNG encode. "
        "Target (issue 10): at most 250 ms per MP on one core for every preset. "
        "The cores are shared with other jobs: 'best' (fastest run) and 'CPU ms' (process CPU time) move less "
        "with their load than the median wall time.",
        table(headers, rows),
        "## Same-run baseline at 1024²: the guard without reuse",
        "The same code with the guard's reuse switched off (every redraw re-renders the whole picture, "
        "`RenderContext.memo` computes every step, face masks are drawn afresh), each in its own process in "
        "the same run. Outputs are identical (tests/engines/test_redraw_reuse.py); only the time differs.",
        table(["preset", "CPU ms no reuse", "CPU ms", "end-to-end speed-up (CPU)", "guard CPU ms no reuse",
               "guard CPU ms", "guard speed-up (CPU)"], base_rows),
        "## Split per step at 1024² (median ms)",
        table(["preset"] + list(STEPS), split_rows),
    ])
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "engine_speed.md").write_text(text + "\n", encoding="utf-8")
    print(text)



if __name__ == "__main__":
    main()
