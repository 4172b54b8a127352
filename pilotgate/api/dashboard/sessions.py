"""Sessions in signed cookies and the CSRF tokens derived from them.

A session cookie is `base64url(json).base64url(hmac)` under a secret kept in the database
(every process signs with the same one). It holds who is logged in (customer `c` or
operator `o` and the id), when it expires, a random nonce, and a fingerprint of the user's
password hash: changing the password ends every other session. Anonymous visitors get a
session too (no user), so the login form carries a CSRF token like every other form. The
token of a form is an HMAC of the nonce; logging in draws a new nonce (no fixation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

COOKIE = "pilotgate_session"


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSession:
    nonce: str
    expires: int  # unix seconds
    kind: str = ""  # "c" customer, "o" operator, "" anonymous
    user_id: int = 0
    fingerprint: str = ""
    lang: str = ""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fingerprint(secret: str, password_hash: str) -> str:
    mac = hmac.new(secret.encode(), b"pw|" + password_hash.encode(), hashlib.sha256)
    return mac.hexdigest()[:24]


class Signer:
    def __init__(self, secret: str, lifetime: timedelta) -> None:
        self._key = secret.encode()
        self.secret = secret
        self.lifetime = lifetime

    def _mac(self, data: bytes) -> str:
        return _b64(hmac.new(self._key, data, hashlib.sha256).digest())

    def new(
        self, now: datetime, *, kind: str = "", user_id: int = 0, fp: str = "", lang: str = ""
    ) -> WebSession:
        return WebSession(
            nonce=secrets.token_urlsafe(18),
            expires=int((now + self.lifetime).timestamp()),
            kind=kind,
            user_id=user_id,
            fingerprint=fp,
            lang=lang,
        )

    def dump(self, session: WebSession) -> str:
        data = json.dumps(
            [
                session.nonce,
                session.expires,
                session.kind,
                session.user_id,
                session.fingerprint,
                session.lang,
            ],
            separators=(",", ":"),
        ).encode()
        return f"{_b64(data)}.{self._mac(data)}"

    def load(self, cookie: str, now: datetime) -> WebSession | None:
        """The session in `cookie`, or None if it is forged, malformed or expired."""
        try:
            payload, mac = cookie.split(".", 1)
            data = _unb64(payload)
            if not hmac.compare_digest(mac, self._mac(data)):
                return None
            nonce, expires, kind, user_id, fp, lang = json.loads(data)
            session = WebSession(
                nonce=str(nonce),
                expires=int(expires),
                kind=str(kind),
                user_id=int(user_id),
                fingerprint=str(fp),
                lang=str(lang),
            )
        except (ValueError, TypeError):
            return None
        return session if session.expires > now.timestamp() else None

    def csrf(self, session: WebSession) -> str:
        return self._mac(b"csrf|" + session.nonce.encode())

    def csrf_ok(self, session: WebSession, token: str) -> bool:
        # Bytes: compare_digest raises TypeError on a str with a non-ASCII character.
        return bool(token) and hmac.compare_digest(token.encode(), self.csrf(session).encode())
