"""Run an app on a real uvicorn server in a background thread (tests, benchmarks, notebooks).

>>> with LiveServer(create_app(settings)) as base_url:   # doctest: +SKIP
...     httpx.get(base_url + "/healthz")
"""

from __future__ import annotations

import threading
import time

import uvicorn


class LiveServer:
    """uvicorn on 127.0.0.1 and a free port (the OS picks it), stopped on exit."""

    def __init__(self, app, host: str = "127.0.0.1", start_timeout: float = 30.0) -> None:
        config = uvicorn.Config(app, host=host, port=0, log_level="warning",
                                timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.host = host
        self.start_timeout = start_timeout
        self._thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def __enter__(self) -> str:
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self.url

    @property
    def url(self) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://{self.host}:{port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
