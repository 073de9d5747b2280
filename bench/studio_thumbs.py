"""What the web studio's preset thumbnails cost the server: the first one (face models loading), each
further preset, and a cached read, against a same-run baseline: one small task of the bundled sample
(256 px, the guard, labels and safety on, as a task renders it) through the same Pipeline.

CPU time (time.process_time) and wall time on one thread; the machine is shared, so read the ratios.
Writes bench/reports/studio_thumbs.md.
Usage: python bench/studio_thumbs.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import io
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __name__ == "__main__":  # run as a script: the repository root and src/ on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from common import REPORTS, machine, single_thread, table


def timed(function: object) -> tuple[float, float]:
    """(CPU ms, wall ms) of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    function()  # type: ignore[operator]
    return 1000 * (time.process_time() - cpu), 1000 * (time.perf_counter() - wall)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    single_thread()

    from PIL import Image

    from restyle.api.web.render_thumbs import render_missing
    from restyle.api.web.thumbs import ThumbnailCache
    from restyle.config import Settings
    from restyle.domain import GenerateRequest, ImageSource
    from restyle.pipeline import Pipeline
    from restyle.samples import load_sample

    settings = Settings()
    presets = [preset.name for preset in Pipeline(settings).presets()]
    folder = Path(tempfile.mkdtemp(prefix="studio-thumbs-"))

    # 1. as the server does it: the first request renders every preset in a child process
    cache = ThumbnailCache(settings, presets, folder / "served")
    rss_before = rss_mb()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    first_cpu, first_wall = timed(lambda: cache.get(presets[0]))
    served_cpu, served_wall = timed(lambda: [cache.get(name) for name in presets])
    served_cpu, served_wall = served_cpu + first_cpu, served_wall + first_wall
    cache._job.done.wait()  # type: ignore[union-attr]  # the child has exited and been reaped
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = 1000 * (children.ru_utime + children.ru_stime - children_before.ru_utime - children_before.ru_stime)
    rss_growth = rss_mb() - rss_before
    # 2. the same work in this process, for its parts: set-up (models, face crop) and each preset
    spent: dict[str, float] = {}
    rss_before = rss_mb()
    inline_cpu, inline_wall = timed(lambda: spent.update(render_missing(settings.model_dump(mode="json"), folder / "inline", presets)))
    inline_growth = rss_mb() - rss_before
    per_preset = statistics.median(spent.values())
    setup_cpu = inline_cpu - sum(spent.values())
    # 3. cached: the file is read, nothing rendered
    cached = [timed(lambda: cache.path(presets[0]).read_bytes()) for _ in range(args.repeats * 20)]
    # 4. baseline: a small task of the same sample as a worker renders it (models already loaded)
    buffer = io.BytesIO()
    Image.fromarray(load_sample("astronaut")).resize((256, 256)).save(buffer, format="PNG")
    request = GenerateRequest(image=ImageSource(data=buffer.getvalue()), style="sketch", seed=7)
    pipeline = Pipeline(settings)
    pipeline.render(request)  # warm
    baseline = [timed(lambda: pipeline.render(request)) for _ in range(args.repeats)]

    base_cpu = statistics.median(cpu for cpu, _ in baseline)
    rows: list[list[object]] = [
        ["baseline: a 256 px sketch task (guard, labels, safety)", base_cpu, statistics.median(w for _, w in baseline), 1.0],
        ["server: first thumbnail answered (API process CPU)", first_cpu, first_wall, first_cpu / base_cpu],
        [f"server: all {len(presets)} answered (API process CPU)", served_cpu, served_wall, served_cpu / base_cpu],
        ["server: the child process that rendered them (its CPU)", child_cpu, "", child_cpu / base_cpu],
        ["in-process: set-up (face models, sample face crop)", setup_cpu, "", setup_cpu / base_cpu],
        [f"in-process: one preset (median of {len(spent)})", per_preset, "", per_preset / base_cpu],
        [f"in-process: all {len(presets)} presets with set-up", inline_cpu, inline_wall, inline_cpu / base_cpu],
        ["cached thumbnail read", statistics.median(c for c, _ in cached), statistics.median(w for _, w in cached),
         statistics.median(c for c, _ in cached) / base_cpu],
    ]  # fmt: skip
    sizes = [path.stat().st_size for path in (folder / "served").glob("*.webp")]
    report = "\n".join([
        "# Studio preset thumbnails",
        "",
        f"Machine: {machine()} (shared with other jobs: read the ratios).",
        "",
        table(["what", "CPU ms", "wall ms", "CPU / baseline"], rows),
        "",
        f"Rendered once per data folder, on the first gallery request, never at start-up; {len(sizes)} files of "
        f"{min(sizes)}..{max(sizes)} bytes ({sum(sizes) / 1024:.0f} kB in all). The API process grew by "
        f"{rss_growth:.0f} MB while its child rendered them (rendering in the API process itself loads the face "
        f"models and the engine into it: {inline_growth:.0f} MB in this run, which would stay).",
        "",
    ])  # fmt: skip
    print(report)
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "studio_thumbs.md").write_text(report)


if __name__ == "__main__":
    main()
