"""Idempotent retries (issue 16): a client that retries a send after a timeout names it with
an `Idempotency-Key`; a repeat within `WINDOW` gets the first answer back, byte for byte, and
nothing is stored or charged twice.

The key is kept as its SHA-256 digest (any length a client sends costs the same 64
characters), next to a fingerprint of the request it came with: the same key with another
request is error `KEY_REUSED`, never a silent replay of an answer to something else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

#: How long a key's first answer is kept and replayed.
WINDOW = timedelta(hours=24)
#: The same key with a different request (ours; docs/contract.md §16).
KEY_REUSED = 280
#: The first request with this key is still being answered (ours).
IN_PROGRESS = 281
#: The API-1 parameter and API-2 field that may carry the key instead of the header.
PARAMETER = "idempotency_key"


@dataclass(frozen=True, slots=True)
class Claim:
    """What a keyed submit claims in its own transaction: the key's digest and the
    fingerprint of the request."""

    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class KeptAnswer:
    """A claimed key: its request's fingerprint and, once rendered, the answer."""

    fingerprint: str
    answer: bytes | None
    content_type: str


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()


def fingerprint(path: str, values: Mapping[str, str]) -> str:
    """A request's identity: its path and parameters in any order, the key itself left out
    (it may come as a parameter on one try and as the header on the next)."""
    pairs = sorted((k, v) for k, v in values.items() if k != PARAMETER)
    return _digest([path, *(f"{k}={v}" for k, v in pairs)])


def document_fingerprint(path: str, query: bytes, body: bytes) -> str:
    """An API-2 request's identity: its query and document exactly as sent."""
    return _digest([path, query.decode("latin-1"), body.decode("latin-1")])


def _digest(parts: Iterable[str]) -> str:
    h = hashlib.sha256()
    for part in parts:
        encoded = part.encode("utf-8", errors="surrogatepass")
        h.update(len(encoded).to_bytes(8, "big"))
        h.update(encoded)
    return h.hexdigest()
