"""A round-robin TCP proxy on loopback: each new connection goes to the next API process.

``python -m restyle.devcluster.proxy --port 9000 --backend 127.0.0.1:9001 --backend 127.0.0.1:9002``.
A backend that refuses the connection (a killed API process) is skipped for that connection, so
clients keep being served while any backend lives. Bytes are relayed as they come (SSE streams too).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal


class RoundRobinProxy:
    """Accepts connections on ``port`` and relays each to the next reachable backend."""

    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = backends
        self._next = itertools.cycle(range(len(backends)))

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for _ in range(len(self.backends)):
            host, port = self.backends[next(self._next)]
            try:
                return await asyncio.wait_for(asyncio.open_connection(host, port), 5)
            except (OSError, TimeoutError):
                continue
        return None

    async def handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        upstream = await self._connect()
        if upstream is None:  # every backend is down
            client_writer.write(
                b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            with contextlib.suppress(OSError):
                await client_writer.drain()
            client_writer.close()
            return
        reader, writer = upstream
        await asyncio.gather(_pipe(client_reader, writer), _pipe(reader, client_writer))
        for end in (writer, client_writer):
            with contextlib.suppress(OSError):
                end.close()

    async def serve(self, port: int) -> None:
        server = await asyncio.start_server(self.handle, "127.0.0.1", port, backlog=1024)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with server:
            await stop.wait()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()  # a half-close travels on: the other side may still answer
    except OSError:
        writer.close()  # one side broke: end the relay both ways


def _backend(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise argparse.ArgumentTypeError(f"backend {text!r} must be on loopback (127.0.0.1:PORT)")
    return host, int(port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="port to listen on (127.0.0.1)")
    parser.add_argument("--backend", type=_backend, action="append", required=True, help="127.0.0.1:PORT")
    args = parser.parse_args(argv)
    asyncio.run(RoundRobinProxy(args.backend).serve(args.port))


if __name__ == "__main__":
    main()
