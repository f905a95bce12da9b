"""Issue 24, finding 8: streaming chats started beside a crowd of ask clients.

Before the fair slots, 20 streaming chats started while 100 ask clients filled the queue
all got 503. Slots are now shared per key: the chats (another key) must complete, or at
worst be refused with Retry-After, and no connection may end without a response. This is
the `assistant bench --soak` trial itself, against a real `assistant serve` (hashing
embedder, the sample corpus in a temp folder).
"""

from __future__ import annotations

import shutil

from assistant.bench import soak
from assistant.settings import Settings


def test_streams_from_another_key_are_served_beside_a_crowd(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(Settings().paths.corpus_dir, corpus)
    env = soak._env(tmp_path / "index", corpus)
    with soak.Served(env, tmp_path / "server.log") as served:
        result = soak.trial_streams_beside_crowd(served.url, clients=100, streams=20)
    crowd = result["crowd"]
    assert crowd["shed"] > 0  # the crowd really filled the queue
    assert result["dropped"] == 0 and result["errors"] == 0 and crowd["errors"] == 0
    assert result["completed"] >= 18, result  # fair shares: the other key is not starved
