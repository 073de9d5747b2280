"""restyle over HTTP for the processing bench: ``restyle serve --no-workers`` on a free 127.0.0.1 port,
the inputs stored in its local storage, and ``GET /v1/files/{key}?x-process=<actions>`` on signed links,
the same kind of request thumbor answers. Each request is a cache miss: the processed copy the server
caches beside the file is deleted before the next request (outside the timing), so every request
reads the file, processes it, encodes and writes its copy.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from urllib.parse import quote

from processing_thumbor import LoopbackServer

from restyle.auth.serverkey import ServerKey
from restyle.imaging.actions import parse_actions
from restyle.imaging.derived import derived_key
from restyle.storage.local import LocalStorage
from restyle.storage.urls import UrlSigner

PREFIX = "bench/processing"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RestyleServer(LoopbackServer):
    """``restyle serve`` (API only) with its own data folder; ``link`` signs a processing URL."""

    def __init__(self, data_dir: Path, cpu: int | None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.signer = UrlSigner(ServerKey.load_or_create(data_dir).derive("urls"), ttl_seconds=7 * 24 * 3600)
        self.storage = LocalStorage(data_dir / "files")
        script = Path(sys.executable).parent / "restyle"
        command = [str(script), "serve", "--data-dir", str(data_dir), "--no-workers", "--no-access-log"]
        port = _free_port()
        super().__init__([*command, "--port", str(port)], port, cpu)

    def store(self, name: str, data: bytes) -> str:
        key = f"{PREFIX}/{name}"
        self.storage.put(key, data)
        return key

    def link(self, key: str, actions: str) -> str:
        url = self.signer.url("", key)
        return f"{url}&x-process={quote(actions, safe='')}"

    def forget(self, key: str, actions: str) -> None:
        """Delete the processed copy of ``key`` cached for ``actions`` (so the next request misses)."""
        self.storage.delete(derived_key(key, parse_actions(actions)))
