"""`assistant serve`: the HTTP API (/v1, /healthz, /readyz, /docs) and the chat page (/).

The index is opened once per process and shared read-only; if none exists yet it is
built from the sample corpus first, so a fresh checkout serves out of the box. The
embedder, tokenizer and Gradio are loaded before the port opens, never on a request.
"""

from __future__ import annotations

import argparse
import socket
import sys

from assistant.errors import AssistantError

# Gradio's login form refuses an empty user name with the same words as a wrong key.
LOGIN_HINT = "用户名：填写您的姓名或工号（必填，不核对）；密码：填写管理员发给您的访问密钥。"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve", help="run the HTTP API and the chat page",
        description="Serve the API and the chat page with uvicorn. Without API keys "
                    "(ASSISTANT_SERVER__API_KEYS / ASSISTANT_SERVER__ADMIN_KEYS) only a loopback "
                    "host is allowed.")
    parser.add_argument("--host",
                        help="address to bind (default ASSISTANT_SERVER__HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default ASSISTANT_SERVER__PORT, 7860)")
    parser.add_argument("--no-ui", action="store_true", help="serve the API only, no chat page")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assistant.api.security import check_bind
    from assistant.cli import settings_from_args
    from assistant.service import Assistant

    settings = settings_from_args(args)
    host, port = args.host or settings.server.host, args.port or settings.server.port
    warning = check_bind(settings, host)  # raises before anything slow happens
    if warning:
        _say(warning)
    listener = bind_port(host, port)  # a busy port is said now, not after the loading
    try:
        ensure_index(settings)
        assistant = Assistant(settings)
        warm_up(assistant)
        app = build_app(settings, assistant, ui=not args.no_ui)
        return _run_uvicorn(app, settings, listener, ui=not args.no_ui)
    finally:
        listener.close()


def bind_port(host: str, port: int) -> socket.socket:
    """The listening socket, bound at once; a specific error when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto named: asyncio only sets TCP_NODELAY on accepted sockets whose proto is TCP
    # (with 0, every reply on a kept-alive connection waited ~40 ms for a delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise AssistantError(f"cannot listen on {host}:{port}: {err.strerror or err}; another "
                             "program (or an `assistant serve` already running) holds it — "
                             "stop it or choose another port with --port") from None
    sock.set_inheritable(True)
    return sock


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def ensure_index(settings) -> None:
    """Build the index from `settings.paths.corpus_dir` if there is none yet, printing progress."""
    from assistant.errors import AssistantError
    from assistant.service import ingest_into_index
    from assistant.stores.backends import corpus_version

    if corpus_version(settings) is not None:
        return
    _say(f"no index in {settings.paths.index_dir}: building it from {settings.paths.corpus_dir} "
         f"with embedder {settings.index.embedder!r} (once; later starts reuse it)")
    report = ingest_into_index([settings.paths.corpus_dir], settings, _progress_printer())
    if not report.ok:
        reasons = "; ".join(f"{e.path}: {e.message}" for e in report.errors) or "no documents"
        raise AssistantError(
            f"could not build the index from {settings.paths.corpus_dir}: {reasons}")
    clauses = sum(d.clauses for d in report.documents)
    _say(f"index built: {len(report.documents)} documents, {clauses} clauses")


def _progress_printer():
    shown: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        step = max(1, total // 10)  # about ten lines per stage
        if done == total or done - shown.get(stage, -step) >= step:
            shown[stage] = done
            _say(f"  {stage}: {done}/{total}")

    return progress


def warm_up(assistant) -> None:
    """Open the index and load everything the first ask needs before the port opens."""
    from assistant.service.warmup import warm_up as load_for_first_ask

    timings = load_for_first_ask(assistant)
    store = assistant.store
    _say(f"index loaded: {len(store.documents)} documents, {len(store.rows)} clauses "
         f"(embedder {store.manifest.embedder}); warm-up ms {timings}")


def build_app(settings, assistant, ui: bool = True):
    from assistant.api.app import create_app

    app = create_app(settings, assistant)
    if ui:
        mount_ui(app, assistant)
    return app


def mount_ui(app, assistant) -> bool:
    """Mount the Gradio chat page at "/" if it is installed; the API keeps its paths."""
    import importlib.util

    if importlib.util.find_spec("assistant.ui.chat") is None:
        _say("chat page not available (assistant.ui.chat missing): serving the API only")
        return False
    import gradio as gr

    from assistant.api.security import KeyRing, PageLogins
    from assistant.ui.chat import build_ui

    logins = PageLogins(KeyRing.from_settings(assistant.settings))
    login = {}
    if logins.keys.enabled:  # the page calls the assistant directly: the same keys and roles
        login = {"auth": logins.login, "auth_message": LOGIN_HINT}
    blocks = build_ui(assistant, logins)
    # bounded: a full queue refuses
    blocks.queue(max_size=assistant.settings.server.max_queued_asks)
    gr.mount_gradio_app(app, blocks, path="/", **login)
    return True


def _run_uvicorn(app, settings, listener: socket.socket, ui: bool) -> int:
    import uvicorn

    from assistant.api.server import server_config

    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    parts = ("chat page /, " if ui else "") + "API /v1, docs /docs"
    _say(f"serving on http://{shown}:{port}/  ({parts})")
    config = server_config(app, settings, host, port, log_level="info",
                           timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[listener])
    return 0
