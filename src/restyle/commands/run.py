"""``restyle run``: stylize photos on this machine, without a server."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from restyle.domain import GenerateResult, ImageSource
from restyle.errors import RestyleError

SAMPLE_PREFIX = "sample:"


def _read_input(path: str) -> tuple[str, bytes]:
    """(stem for output names, bytes) of a file path or ``sample:NAME``."""
    if path.startswith(SAMPLE_PREFIX):
        from restyle.samples import sample_bytes

        name = path[len(SAMPLE_PREFIX) :]
        return name, sample_bytes(name)
    file = Path(path)
    if not file.is_file():
        raise RestyleError(f"Input '{path}' is not a readable file.", code="input.missing", status=400)
    return file.stem, file.read_bytes()


def _read_style_image(path: Path | None) -> ImageSource | None:
    if path is None:
        return None
    try:
        return ImageSource(data=path.read_bytes())
    except OSError as exc:
        raise RestyleError(
            f"Option --style-image '{path}' cannot be read ({exc.strerror or exc}).",
            code="input.missing",
            status=400,
            param="style_image",
        ) from None


def _output_folder(out: Path) -> Path:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise RestyleError(
            f"Option --out '{out}' is a file; give a folder for the outputs.", code="output.invalid", status=400
        ) from None
    except OSError as exc:
        raise RestyleError(
            f"Option --out '{out}' cannot be created ({exc.strerror or exc}).", code="output.invalid", status=400
        ) from None
    return out


def _unique_target(out: Path, stem: str, style: str, extension: str, taken: set[Path]) -> Path:
    """``out/stem_style.ext``, numbered when an earlier output of this run already has that name."""
    target = out / f"{stem}_{style}.{extension}"
    number = 2
    while target in taken:
        target = out / f"{stem}_{style}_{number}.{extension}"
        number += 1
    taken.add(target)
    return target


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise RestyleError(
            f"The output '{path}' cannot be written ({exc.strerror or exc}).", code="output.invalid", status=500
        ) from None


def run_command(
    inputs: Annotated[list[str], typer.Argument(help="Photos to stylize (files, or sample:astronaut).")],
    style: Annotated[str | None, typer.Option("--style", "-s", help="Preset name or index, or 'all'.")] = None,
    style_image: Annotated[Path | None, typer.Option(help="Style reference image.")] = None,
    prompt: Annotated[str, typer.Option(help="Style words, English or Chinese.")] = "",
    seed: Annotated[int, typer.Option(help="Seed; -1 picks one and reports it.")] = -1,
    width: Annotated[int | None, typer.Option(help="Output width (face-centred crop).")] = None,
    height: Annotated[int | None, typer.Option(help="Output height (face-centred crop).")] = None,
    hd: Annotated[float, typer.Option(help="HD face 0..1 (step 0.1).")] = 0.4,
    beautify: Annotated[float, typer.Option(help="Beautify 0..1 (step 0.1).")] = 0.3,
    smooth: Annotated[float, typer.Option(help="Skin smoothing 0..1 (step 0.1).")] = 0.0,
    strength: Annotated[float, typer.Option(help="Style strength 0..1.")] = 1.0,
    mode: Annotated[str | None, typer.Option(help="creative | reference | reference_char")] = None,
    min_identity: Annotated[
        float | None,
        typer.Option(help="Largest identity distance the guard accepts (default faces.identity_threshold, 0.5)."),
    ] = None,
    no_guard: Annotated[bool, typer.Option("--no-guard", help="Measure identity but never restore it.")] = False,
    facestyle: Annotated[bool, typer.Option("--facestyle", help="Keep the photo's own look.")] = False,
    allow_no_face: Annotated[bool, typer.Option(help="Stylize photos without a face.")] = False,
    output_format: Annotated[str, typer.Option("--format", help="png | jpeg | webp | avif | heic")] = "png",
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per output on stdout.")] = False,
) -> None:
    """Stylize INPUT photos into OUT (one file per input and style)."""
    from restyle.config import Settings
    from restyle.pipeline import Pipeline
    from restyle.requests import parse_generate_request

    try:
        style_source = _read_style_image(style_image)
        _output_folder(out)
    except RestyleError as exc:
        _report_error("-", exc, as_json)
        raise typer.Exit(code=2) from None
    settings = Settings.load()
    pipeline = Pipeline(settings)
    pipeline.setup()
    if min_identity is None:
        min_identity = settings.faces.identity_threshold
    every = style is not None and style.strip().lower() == "all"
    styles: list[str | None] = [p.name for p in pipeline.presets()] if every else [style]
    fields: dict[str, Any] = {
        "prompt": prompt, "seed": seed, "width": width, "height": height, "hd": hd, "beautify": beautify,
        "smooth": smooth, "strength": strength, "mode": mode, "min_identity": min_identity,
        "face_switch": not no_guard, "facestyle_switch": facestyle, "allow_no_face": allow_no_face,
        "output_format": output_format,
    }  # fmt: skip
    jobs = [(path, s) for path in inputs for s in styles]
    failures = 0
    written: set[Path] = set()
    with _progress(len(jobs) if len(jobs) > 1 and not as_json else 0) as advance:
        for path, job_style in jobs:
            try:
                stem, data = _read_input(path)
                request = parse_generate_request(
                    {**fields, "style": job_style},
                    image=ImageSource(data=data),
                    style_image=style_source,
                    resolve_style=pipeline.resolve_style,
                )
                result = pipeline.render(request)
                target = _unique_target(out, stem, result.style or "styled", result.format.value, written)
                _write_atomically(target, result.encoded)
                _report(path, target, result, as_json)
            except RestyleError as exc:
                failures += 1
                _report_error(path, exc, as_json)
            advance()
    if failures:
        raise typer.Exit(code=1 if failures < len(jobs) else 2)


class _progress:
    """A rich progress bar over ``total`` outputs when there are several, else nothing."""

    def __init__(self, total: int) -> None:
        self.total = total
        self._bar: Any = None

    def __enter__(self) -> Any:
        if not self.total:
            return lambda: None
        from rich.progress import Progress

        self._bar = Progress(transient=True)
        self._bar.start()
        task = self._bar.add_task("restyling", total=self.total)
        return lambda: self._bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _report(path: str, target: Path, result: GenerateResult, as_json: bool) -> None:
    summary = result.summary()
    if as_json:
        print(json.dumps({"input": path, "path": str(target), **summary}, ensure_ascii=False), flush=True)
        return
    distance = summary["identity_distance"]
    guard = " (guard applied)" if summary["guard_applied"] else ""
    identity = "no face" if distance is None else f"identity distance {distance:.3f}{guard}"
    total = summary["timings_ms"].get("total", 0.0)
    print(f"{target}  style={result.style} seed={result.seed} {identity}  {total:.0f} ms", flush=True)
    for warning in result.warnings:
        print(f"  warning: {warning}", flush=True)


def _report_error(path: str, exc: RestyleError, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"input": path, "error": exc.to_dict()}, ensure_ascii=False), flush=True)
    else:
        where = "" if path == "-" else f"{path}: "
        print(f"error: {where}{exc.message} [{exc.code}]", file=sys.stderr, flush=True)


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
