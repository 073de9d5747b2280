"""``restyle doctor``: check face models, the configured engine and the optional extras."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from typing import Annotated, Any

import typer

EXTRAS: dict[str, list[str]] = {
    "diffusion": ["torch", "diffusers", "transformers", "accelerate", "safetensors"],
    "onnx": ["onnxruntime"],
    "distributed": ["celery", "redis", "psycopg", "boto3"],
}


def _check(name: str, fn: Callable[[], Any]) -> dict[str, Any]:
    try:
        detail = fn()
        return {"check": name, "ok": True, "detail": detail}
    except Exception as exc:  # noqa: BLE001 - the doctor reports every failure, whatever it is
        return {"check": name, "ok": False, "detail": f"{type(exc).__name__}: {exc}"}


def _face_models() -> str:
    from restyle.faces import models

    models.hog_detector()
    models.shape_predictor()
    models.face_recognizer()
    models.haar_cascade()
    return (
        f"dlib HOG detector, 68-point landmarks and ResNet embedding loaded from {models.models_dir()}; "
        "OpenCV Haar cascade"
    )


def _cnn_detector() -> str:
    from restyle.faces import models

    models.cnn_detector()
    return "dlib MMOD CNN detector (RESTYLE_FACES__DETECTOR=cnn) loaded"


def _opencv() -> str:
    import cv2

    missing = [name for name in ("ximgproc",) if not hasattr(cv2, name)]
    if missing:
        raise ModuleNotFoundError(
            f"OpenCV {cv2.__version__} lacks cv2.{', cv2.'.join(missing)}: install exactly one OpenCV wheel, "
            "opencv-contrib-python-headless (another OpenCV wheel may have overwritten it)"
        )
    return f"OpenCV {cv2.__version__} with contrib modules"


def _engine() -> dict[str, Any]:
    from restyle.config import Settings
    from restyle.engines import ENGINES

    settings = Settings.load()
    engine = ENGINES.create(settings.engine.name, **settings.engine.options)
    engine.setup()
    return engine.healthcheck()


def _templates() -> str:
    from restyle.config import Settings
    from restyle.imaging.templates import TemplateSet

    path = Settings.load().images.templates_file
    count = len(list(TemplateSet.from_settings(path).items()))
    return f"{count} templates from {path or 'the built-in set'}"


_NO_CATALOGUE = "none configured (engine option 'catalogue')"


def _catalogue(path: str | None) -> dict[str, str]:
    """Every model of the catalogue (``--catalogue`` or engine option ``catalogue``) opened far enough to
    read its shapes, without a GPU."""
    from pathlib import Path

    from restyle.config import Settings
    from restyle.engines.catalogue import check_catalogue

    chosen = path or Settings.load().engine.options.get("catalogue")
    if not chosen:
        return {"catalogue": _NO_CATALOGUE}
    return check_catalogue(Path(str(chosen)))


def _extra(extra: str) -> str:
    missing = [m for m in EXTRAS[extra] if importlib.util.find_spec(m) is None]
    if missing:
        raise ModuleNotFoundError(f"missing {', '.join(missing)}: pip install 'restyle[{extra}]'")
    return "installed"


def doctor_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    catalogue: Annotated[
        str | None, typer.Option(help="Model catalogue to check (default: engine option 'catalogue').")
    ] = None,
) -> None:
    """Report what works and what is missing; exits 1 if a required part fails."""
    catalogue_row = _check("model catalogue", lambda: _catalogue(catalogue))
    configured = catalogue is not None or catalogue_row["detail"] != {"catalogue": _NO_CATALOGUE}
    required = [
        *([catalogue_row] if configured else []),
        _check("face models", _face_models),
        _check("opencv", _opencv),
        _check("engine", _engine),
        _check("templates", _templates),
    ]
    optional_models = [_check("cnn detector", _cnn_detector), *([] if configured else [catalogue_row])]
    optional = optional_models + [
        _check(f"extra [{extra}]", lambda e=extra: _extra(e)) for extra in EXTRAS  # type: ignore[misc]
    ]
    if as_json:
        print(json.dumps({"required": required, "optional": optional}, indent=2, default=str))
    else:
        for row in required + optional:
            mark = "ok  " if row["ok"] else ("FAIL" if row in required else "--  ")
            print(f"[{mark}] {row['check']}: {row['detail']}")
    if not all(row["ok"] for row in required):
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor_command)
