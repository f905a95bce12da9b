"""The sockets `assistant serve` answers on: replies are never held for a delayed ACK.

A reply goes out in parts (headers, then body). Without TCP_NODELAY the second part waits
for the client's ACK of the first, which Linux delays ~40 ms on a kept-alive connection:
every ask after the first took ~40 ms longer. asyncio sets the option only on sockets
accepted from a listener whose proto is TCP, so the listener says so, and every
connection sets it again.
"""

from __future__ import annotations

import asyncio
import socket

from assistant.api.server import _no_delay
from assistant.commands.serve import bind_port


def _nodelay(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_connections_accepted_from_the_serve_listener_send_without_delay():
    listener = bind_port("127.0.0.1", 0)
    assert listener.proto == socket.IPPROTO_TCP
    seen = []

    async def main():
        async def handler(reader, writer):
            seen.append(_nodelay(writer.get_extra_info("socket")))
            writer.close()

        server = await asyncio.start_server(handler, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(main())
    assert seen and seen[0] != 0


class _Transport:
    """Protocol test double: the one transport call `_no_delay` makes."""

    def __init__(self, sock):
        self.sock = sock

    def get_extra_info(self, name):
        return self.sock if name == "socket" else None


def test_each_connection_sets_nodelay_whatever_listener_accepted_it():
    plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, as before the fix
    plain.bind(("127.0.0.1", 0))
    plain.listen(1)
    client = socket.create_connection(plain.getsockname())
    accepted, _ = plain.accept()
    try:
        accepted.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
        _no_delay(_Transport(accepted))
        assert _nodelay(accepted) != 0
        _no_delay(_Transport(None))  # a transport without a socket is left alone
    finally:
        for sock in (client, accepted, plain):
            sock.close()
