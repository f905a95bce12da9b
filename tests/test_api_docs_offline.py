"""/docs is served from local assets: the page names no other host, and the assets load.

(The browser test, tests/test_ui_browser.py, opens it with every non-loopback request blocked.)
"""

# ruff: noqa: F811  (pytest fixtures imported from api_fixtures are used as arguments)
from __future__ import annotations

import re

import httpx
from api_fixtures import corpus_index, server  # noqa: F401  (pytest fixtures are used by name)


def test_docs_page_uses_only_local_assets(server):
    page = httpx.get(server + "/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", page.text)
    assert external == []
    for asset in re.findall(r"""["'](/docs-assets/[^"']+)["']""", page.text):
        response = httpx.get(server + asset)
        assert response.status_code == 200 and len(response.content) > 100, asset
    assert httpx.get(server + "/openapi.json").json()["paths"]["/v1/chat/completions"]
