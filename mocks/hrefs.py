"""Absolute `href`s on the way out, relative ones in the store.

Timeback publishes every GUIDRef `href` as `format: uri`, so an answer must carry absolute URLs.
The store keeps them relative (`/ims/...`) so that a `--db` file stays valid whichever host and
port later serve it. The outgoing JSON text is rewritten once, by a byte replace: the list and get
actions splice stored JSON strings, and parsing them again only to fix hrefs would cost the hot
path. Compact JSON (orjson, and every stored record) writes a member as `"href":"/`; that byte
sequence cannot occur inside a JSON string, where quotes are escaped, so only real members match.
"""
from __future__ import annotations

from typing import Any

from tbconform.mocks.context import Response

_RELATIVE = b'"href":"/'


def absolute(response: Response, base_url: str) -> Response:
    """The response with each relative `href` prefixed by the request's base URL."""
    if response.content_type == "application/json" and _RELATIVE in response.body:
        response.body = response.body.replace(_RELATIVE, b'"href":"' + base_url.rstrip("/").encode() + b"/")
    return response


def relative(node: Any, base_url: str) -> Any:
    """A written record with hrefs on this sandbox's own base URL made relative again.

    Clients echo what they read (absolute hrefs) back in PUT bodies; storing those would tie the
    store to one host and port.
    """
    prefix = base_url.rstrip("/") + "/"
    if isinstance(node, dict):
        out = {k: relative(v, base_url) for k, v in node.items()}
        href = out.get("href")
        if isinstance(href, str) and href.startswith(prefix):
            out["href"] = href[len(prefix) - 1:]
        return out
    if isinstance(node, list):
        return [relative(v, base_url) for v in node]
    return node
