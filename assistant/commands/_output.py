"""Shared output helpers for commands: JSON to stdout, tables with rich."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(payload: Any) -> None:
    json.dump(payload, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")
