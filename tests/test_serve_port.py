"""`assistant serve` on a port another program holds: a plain error, before any loading."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_busy_port_is_refused_before_the_index_is_built_or_serving_is_announced(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        env.update(ASSISTANT_PATHS__INDEX_DIR=str(tmp_path / "index"),
                   ASSISTANT_INDEX__EMBEDDER="hashing")
        done = subprocess.run([sys.executable, "-m", "assistant", "serve", "--port", str(port)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                              check=False)
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
    assert "serving on" not in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "index").exists()  # nothing slow happened first
