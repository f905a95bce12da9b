"""uvicorn with bounded connections, and a live server in a thread (tests, benchmarks).

`server_config` is what `assistant serve` and `LiveServer` both run: a header-read timeout
(uvicorn has none: a client that never finishes its headers would hold its connection and
file descriptor for ever), keep-alive and concurrency limits, an access log that never
records a query string (it may hold a key), and logs that cannot flood: a message repeated
more than a few times a minute (asyncio's "Too many open files") is counted, not written.

>>> with LiveServer(create_app(settings)) as base_url:   # doctest: +SKIP
...     httpx.get(base_url + "/healthz")
"""

from __future__ import annotations

import logging
import resource
import socket
import threading
import time

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from assistant.api.problems import problem
from assistant.settings import Settings

log = logging.getLogger("assistant.api")

LINGER_S = 2.0  # how long the unread rest of an answered request's body is read and dropped


class GuardedH11Protocol(H11Protocol):
    """h11 with the deadlines and the per-client cap uvicorn lacks (slowloris, slow bodies).

    - headers: complete within `config.header_timeout` of connect or of the last reply;
    - body: complete within `config.body_timeout` of its headers, else 408 and close (a
      body trickled a few bytes a second would otherwise hold its connection for ever);
      a request answered before its body is in (401, 413…) has its connection closed
      within `LINGER_S`;
    - connections: at most `config.per_client` open from one address; a request on one
      more is answered 503 + Retry-After and the connection closed, so one host cannot
      take every slot of `limit_concurrency` (others' /healthz and asks stay served).

    The values come from `server_config`; `config.client_connections` is the shared count.
    """

    def __init__(self, config, *args, **kwargs) -> None:
        super().__init__(config, *args, **kwargs)
        self.header_timeout: float = getattr(config, "header_timeout", 10.0)
        self.body_timeout: float = getattr(config, "body_timeout", 60.0)
        self.per_client: int = getattr(config, "per_client", 1 << 30)
        self._open: dict[str, int] = getattr(config, "client_connections", {})
        self._header_timer = None
        self._body_timer = None
        self._waiting_cycle = None
        self._counted_host: str | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        _no_delay(transport)
        host = self.client[0] if self.client else "unknown"
        self._counted_host = host
        self._open[host] = self._open.get(host, 0) + 1
        if self._open[host] > self.per_client:
            self.app = _too_many_connections(host, self.per_client)
        self._arm_header_timer()

    def connection_lost(self, exc) -> None:
        self._cancel_header_timer()
        self._cancel_body_timer()
        if self._counted_host is not None:
            left = self._open.get(self._counted_host, 1) - 1
            if left > 0:
                self._open[self._counted_host] = left
            else:
                self._open.pop(self._counted_host, None)
            self._counted_host = None
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        cycle = self.cycle
        if self._header_timer is not None and cycle is not self._waiting_cycle:
            self._cancel_header_timer()  # the headers arrived: a request is being served
            if cycle is not None and cycle.more_body:
                self._body_timer = self.loop.call_later(self.body_timeout, self._body_too_slow,
                                                        cycle)
        if self._body_timer is not None and (cycle is None or not cycle.more_body):
            self._cancel_body_timer()  # the whole body is in

    def on_response_complete(self) -> None:
        self._cancel_body_timer()
        unread = self.cycle is not None and self.cycle.more_body
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()  # the next request's headers have the same deadline
            if unread:
                # Answered before the body was in (401, 403, 413…): the rest is read and
                # dropped for at most LINGER_S, then the connection closes (nginx's
                # lingering close: closing at once would reset the reply; waiting for a
                # trickle would let it hold the connection).
                self._body_timer = self.loop.call_later(LINGER_S, self._stop_lingering)

    def _stop_lingering(self) -> None:
        self._body_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._waiting_cycle = self.cycle
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            log.warning("closed a connection from %s: no complete request headers within %g s",
                        self.client[0] if self.client else "unknown", self.header_timeout)
            self.transport.close()

    def _body_too_slow(self, cycle) -> None:
        """408 (when no reply has started) and close: the app sees a disconnect."""
        self._body_timer = None
        if self.transport.is_closing() or cycle is not self.cycle or not cycle.more_body:
            return
        log.warning("closed a connection from %s: request body not complete within %g s",
                    self.client[0] if self.client else "unknown", self.body_timeout)
        if not cycle.response_started:
            cycle.response_started = True  # the app may not reply on top of this one
            self.transport.write(_REQUEST_TIMEOUT)
        self.transport.close()


_TIMEOUT_BODY = (b'{"type":"/problems/request-timeout","title":"Request timeout","status":408,'
                 b'"detail":"the request body did not arrive within the body deadline '
                 b'(ASSISTANT_SERVER__BODY_TIMEOUT_S)"}')
_REQUEST_TIMEOUT = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/problem+json\r\n"
                    b"connection: close\r\ncontent-length: %d\r\n\r\n%s"
                    % (len(_TIMEOUT_BODY), _TIMEOUT_BODY))


def _too_many_connections(host: str, limit: int):
    """The app a connection over the per-client cap runs: one 503, then close."""
    async def refuse(scope, receive, send) -> None:
        log.warning("refused a request from %s: more than %d open connections from it",
                    host, limit)
        response = problem(503, "Too many connections",
                           f"more than {limit} open connections from this address "
                           "(ASSISTANT_SERVER__MAX_CONNECTIONS_PER_CLIENT); close some and retry",
                           {"Retry-After": "1", "Connection": "close"})
        await response(scope, receive, send)

    return refuse


class QueryStringRedactor(logging.Filter):
    """uvicorn's access log line without the query string (`?key=...` stays out of logs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, _, query = args[2].partition("?")
            if query:
                record.args = (*args[:2], f"{path}?[redacted]", *args[3:])
        return True


class FloodFilter(logging.Filter):
    """At most `per_minute` records with the same message template a minute, then a count."""

    def __init__(self, per_minute: int = 10, clock=time.monotonic) -> None:
        super().__init__()
        self.per_minute = per_minute
        self._clock = clock
        self._seen: dict[str, tuple[float, int]] = {}  # template → (window start, count)
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = f"{record.name}:{record.msg}"[:200]
        with self._lock:
            now = self._clock()
            start, count = self._seen.get(key, (now, 0))
            if now - start >= 60:
                if count > self.per_minute:
                    record.msg = f"{record.msg} [and {count - self.per_minute} more like it " \
                                 "in the last minute, not logged]"
                start, count = now, 0
            if len(self._seen) > 1000:
                self._seen.clear()
            self._seen[key] = (start, count + 1)
        return count < self.per_minute


_FLOOD = FloodFilter()
_LOGGERS_GUARDED = ("asyncio", "uvicorn.error", "assistant.api", "assistant.requests")


def guard_logging() -> None:
    """Install the redactor and the flood filter (idempotent)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QueryStringRedactor) for f in access.filters):
        access.addFilter(QueryStringRedactor())
    for name in _LOGGERS_GUARDED:
        logger = logging.getLogger(name)
        if _FLOOD not in logger.filters:
            logger.addFilter(_FLOOD)


def raise_open_file_limit() -> int:
    """Raise the soft open-files limit to the hard one; the resulting soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def server_config(app, settings: Settings, host: str, port: int, **options) -> uvicorn.Config:
    """uvicorn.Config with this project's connection limits (see the module docstring)."""
    files = raise_open_file_limit()
    # Keep well below the file limit: the index, models and logs need descriptors too.
    connections = max(8, min(settings.server.max_connections, files - 64))
    proxies = Settings.split_keys(settings.server.trusted_proxies)
    config = uvicorn.Config(app, host=host, port=port, http=GuardedH11Protocol,
                            limit_concurrency=connections,
                            # uvicorn believes X-Forwarded-For from 127.0.0.1 by default:
                            # only configured proxies may name the client.
                            proxy_headers=bool(proxies), forwarded_allow_ips=proxies or [],
                            timeout_keep_alive=max(1, round(settings.server.keep_alive_s)),
                            h11_max_incomplete_event_size=64 * 1024,
                            backlog=min(2048, connections * 4), **options)
    config.header_timeout = settings.server.header_timeout_s
    config.body_timeout = settings.server.body_timeout_s
    config.per_client = settings.server.max_connections_per_client
    config.client_connections = {}  # address → open connections, shared by all of them
    guard_logging()  # after uvicorn.Config, which (re)configures its loggers
    return config


class LiveServer:
    """uvicorn on 127.0.0.1 and a free port (the OS picks it), stopped on exit."""

    def __init__(self, app, host: str = "127.0.0.1", start_timeout: float = 30.0,
                 settings: Settings | None = None) -> None:
        settings = settings or _settings_of(app)
        config = server_config(app, settings, host, 0, log_level="warning",
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


def _no_delay(transport) -> None:
    """TCP_NODELAY on the connection, whatever socket it was accepted from: a reply written
    in parts (headers, body) must not wait for the client's delayed ACK."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass  # closed already, or not TCP after all: nothing to speed up


def _settings_of(app) -> Settings:
    state = getattr(getattr(app, "state", None), "api", None)
    return state.settings if state is not None else Settings()
