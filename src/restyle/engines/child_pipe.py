"""One duplex channel over two one-way pipes: how an engine talks to the child process it owns."""

from __future__ import annotations

from multiprocessing.connection import Connection
from typing import Any


class Duplex:
    """Two one-way connections (e.g. a child's stdout and its stdin) used as one."""

    def __init__(self, reader: Connection, writer: Connection) -> None:
        self.reader, self.writer = reader, writer

    def send(self, value: Any) -> None:
        self.writer.send(value)

    def recv(self) -> Any:
        return self.reader.recv()

    def poll(self, timeout: float) -> bool:
        return self.reader.poll(timeout)

    def close(self) -> None:
        self.reader.close()
        self.writer.close()
