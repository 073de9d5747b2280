"""Preset thumbnails for the studio's gallery: the bundled sample portrait in each preset, small.

Rendered lazily: the first request for a missing thumbnail starts one short-lived child process
(:mod:`restyle.api.web.render_thumbs`) that renders every missing preset through the same Pipeline
as tasks and exits, so the API process never loads the face models (about 260 MB, see
bench/reports/studio_thumbs.md). Files are cached under ``<data dir>/studio/thumbs``: a restart
renders nothing again, and start-up never waits for them.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

from restyle.api.web import render_thumbs
from restyle.api.web.render_thumbs import thumbnail_path
from restyle.config import Settings
from restyle.errors import TryLater

log = logging.getLogger(__name__)

RENDER_TIMEOUT_SECONDS = 180.0
POLL_SECONDS = 0.1
REQUEST_WAIT_SECONDS = 20.0  # a request waits this long for its file, then is told to come back
FAILURE_BACKOFF_SECONDS = 300.0  # after a failed render no new child starts for this long


class _RenderJob:
    """One child process rendering the missing thumbnails; ``error`` is set if it failed."""

    def __init__(self, settings: Settings, folder: Path, presets: list[str]) -> None:
        self.error: str | None = None
        self.ended_at = 0.0  # time.monotonic() when the child ended
        self.done = threading.Event()
        # -P: the script's folder is not put on sys.path; the child imports restyle, not the web service
        command = [sys.executable, "-P", render_thumbs.__file__, str(folder), *presets]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        payload = json.dumps(settings.model_dump(mode="json"))
        threading.Thread(target=self._wait, args=(payload,), name="studio-thumbs", daemon=True).start()

    def _wait(self, payload: str) -> None:
        started = time.perf_counter()
        try:
            out, err = self.process.communicate(payload, timeout=RENDER_TIMEOUT_SECONDS)
            if self.process.returncode != 0:
                self.error = (
                    err.strip().splitlines()[-1] if err.strip() else f"exit {self.process.returncode}"
                )
                log.error("studio thumbnails could not be rendered: %s", err.strip())
            else:
                spent = json.loads(out or "{}")
                log.info(
                    "studio thumbnails: %d rendered in %.1f s (%.0f ms CPU in the child)",
                    len(spent), time.perf_counter() - started, sum(spent.values()),
                )  # fmt: skip
        except Exception as exc:  # a hung child: stop it and report
            self.process.kill()
            self.process.communicate()
            self.error = repr(exc)
            log.error("studio thumbnails could not be rendered: %r", exc)
        finally:
            self.ended_at = time.monotonic()
            self.done.set()


class ThumbnailCache:
    """One WebP per preset of the configured engine, rendered on first request and kept in ``folder``."""

    def __init__(self, settings: Settings, presets: list[str], folder: Path) -> None:
        self.settings = settings
        self.presets = presets
        self.folder = folder
        self._lock = threading.Lock()
        self._job: _RenderJob | None = None

    def path(self, preset: str) -> Path:
        return thumbnail_path(self.folder, self.settings.engine.name, preset)

    def get(self, preset: str) -> Path:
        """The thumbnail file of ``preset`` (a preset name of the catalogue), rendered if missing."""
        target = self.path(preset)
        if target.exists():
            return target
        with self._lock:  # one child at a time; requests for other presets wait on the same one
            job = self._job
            if job is not None and job.done.is_set() and job.error is not None:
                waited = time.monotonic() - job.ended_at
                if waited < FAILURE_BACKOFF_SECONDS:  # do not start a full pipeline per request
                    raise TryLater(
                        f"The preset thumbnails could not be rendered ({job.error}); retry later.",
                        retry_after=FAILURE_BACKOFF_SECONDS - waited,
                    )
            if job is None or job.done.is_set():
                order = [preset] + [
                    name for name in self.presets if name != preset
                ]  # the one asked for first
                job = self._job = _RenderJob(self.settings, self.folder, order)
        # the child writes each file as it is done: answer as soon as this one is there
        deadline = time.monotonic() + REQUEST_WAIT_SECONDS
        while not target.exists() and not job.done.wait(POLL_SECONDS) and time.monotonic() < deadline:
            pass
        if not target.exists():
            reason = "could not be rendered" if job.done.is_set() else "is still being rendered"
            raise TryLater(f"The thumbnail of preset '{preset}' {reason}; retry later.", retry_after=5.0)
        return target
