"""``restyle process``: run processing actions (or a named template) on an image file."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from restyle.errors import RestyleError


def process_command(
    image: Annotated[Path, typer.Argument(help="The image file to process.")],
    actions: Annotated[
        str | None,
        typer.Option("--actions", "-a", help="Action string, e.g. image/resize,w_256/format,webp."),
    ] = None,
    template: Annotated[
        str | None, typer.Option("--template", "-t", help="A named template instead.")
    ] = None,
    templates_file: Annotated[
        Path | None, typer.Option("--templates-file", help="Templates file (default: images.templates_file).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Output file or folder; the extension follows the output format."
        ),
    ] = None,
    objects_dir: Annotated[
        Path | None,
        typer.Option("--objects-dir", help="Where image watermarks are read (default: IMAGE's folder)."),
    ] = None,
) -> None:
    """Resize, crop, rotate, re-encode or watermark IMAGE; prints the path written (info: the JSON)."""
    try:
        written = _process(image, actions, template, templates_file, output, objects_dir)
    except RestyleError as exc:
        typer.echo(f"restyle: {exc.message}", err=True)
        raise typer.Exit(2 if exc.status < 500 else 1) from None
    if written is not None:
        print(written)


def _process(
    image: Path,
    actions: str | None,
    template: str | None,
    templates_file: Path | None,
    output: Path | None,
    objects_dir: Path | None,
) -> Path | None:
    """Steps: 1. the chain; 2. the input; 3. process; 4. write (info without -o goes to stdout)."""
    from restyle.config import Settings
    from restyle.imaging.actions import EXTENSIONS, parse_actions, process_image
    from restyle.imaging.limits import native_rules
    from restyle.imaging.templates import TemplateSet

    # 1. chain
    if (actions is None) == (template is None):
        raise RestyleError(
            "Give either --actions or --template (one of them).", code="param.invalid", status=400
        )
    settings = Settings.load()
    if template is not None:
        chain = TemplateSet.from_settings(templates_file or settings.images.templates_file).get(template)
    else:
        assert actions is not None
        chain = parse_actions(actions)
    # 2. input
    try:
        data = image.read_bytes()
    except OSError:
        raise RestyleError(
            f"Input '{image}' is not a readable file.", code="input.missing", status=400
        ) from None
    # 3. process
    result = process_image(
        data,
        chain,
        max_output_pixels=settings.images.max_pixels,
        resolve_object=folder_reader(objects_dir or image.parent),
        rules=native_rules(settings.images),
    )
    # 4. write
    if result.format == "json" and output is None:
        sys.stdout.write(result.data.decode() + "\n")
        return None
    target = output_path(image, output, "json" if result.format == "json" else EXTENSIONS[result.format])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(result.data)
    return target


def output_path(image: Path, output: Path | None, extension: str) -> Path:
    """Where the result goes: ``output`` with the format's extension, ``<stem>.<ext>`` inside a folder,
    or ``<stem>-processed.<ext>`` in the current folder without ``-o``."""
    if output is None:
        return Path(f"{image.stem}-processed.{extension}")
    if output.is_dir() or str(output).endswith(("/", "\\")):
        return output / f"{image.stem}.{extension}"
    return output.with_suffix(f".{extension}")


def folder_reader(folder: Path) -> Callable[[str], bytes]:
    """Reads watermark objects as files under ``folder``; a key may not leave it."""
    from restyle.errors import NotFound

    root = folder.resolve()

    def read(key: str) -> bytes:
        path = (root / key).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise NotFound(f"Object '{key}' is not a file under {root}.", param="image")
        return path.read_bytes()

    return read


def register(app: typer.Typer) -> None:
    app.command("process")(process_command)
