"""What every page handler gets: the request, the session, who is logged in, the language,
and `render` (Jinja2, autoescape always on)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import jinja2

from pilotgate.domain import audit, money
from pilotgate.domain.accounts import Account
from pilotgate.gateway import Gateway
from pilotgate.storage.dashboard import Operator

from . import i18n
from .sessions import COOKIE, Signer, WebSession
from .web import WebRequest, WebResponse


@dataclass(frozen=True, slots=True, kw_only=True)
class DashboardSettings:
    max_form_bytes: int = 64 * 1024
    max_upload_bytes: int = 2 * 1024 * 1024
    session_lifetime: timedelta = timedelta(hours=12)
    #: What `from` defaults to when an account has no default sender.
    default_sender: str = "INFORM"
    #: Cookies are Secure when the request came over https, or always with this (TLS ended
    #: by a proxy in front: the gateway itself then only sees http).
    https: bool = False
    #: Messages one history page with a text filter examines at most (the text has no index):
    #: past them the page offers to search older messages.
    search_window: int = 100_000
    #: The port customers' systems bind to over SMPP (0: no SMPP listener), shown in the
    #: cabinet beside the account's system_id.
    smpp_port: int = 0


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pilotgate.api.dashboard", "templates"),
        autoescape=True,  # every value is escaped unless a template says otherwise (none does)
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money.format
    env.filters["when"] = _when
    return env


@dataclass
class Ctx:
    req: WebRequest
    session: WebSession
    signer: Signer
    gateway: Gateway
    env: jinja2.Environment
    settings: DashboardSettings
    now: datetime
    lang: str
    account: Account | None = None
    operator: Operator | None = None
    #: Set when the session changed (login, logout, language): sent as a new cookie.
    new_session: WebSession | None = None
    cookies: list[tuple[str, str, int | None]] = field(default_factory=list)

    @property
    def me(self) -> Account:
        assert self.account is not None  # the router let only customers in
        return self.account

    @property
    def actor(self) -> str:
        """Who the audit trail names for a change made on a console page."""
        assert self.operator is not None  # the router let only operators in
        return audit.operator(self.operator.email)

    def _(self, text: str) -> str:
        return i18n.translate(text, self.lang)

    @property
    def csrf(self) -> str:
        return self.signer.csrf(self.new_session or self.session)

    def switch(self, session: WebSession) -> None:
        self.new_session = session

    def with_lang(self, lang: str) -> None:
        self.new_session = replace(self.new_session or self.session, lang=lang)

    def render(self, template: str, status: int = 200, **values: Any) -> WebResponse:
        page = self.env.get_template(template).render(
            _=self._,
            lang=self.lang,
            csrf=self.csrf,
            account=self.account,
            operator=self.operator,
            path=self.req.path,
            query=self.req.query,
            **values,
        )
        return WebResponse(page.encode("utf-8"), status=status)

    def finish(self, response: WebResponse) -> WebResponse:
        """Attach the session cookie when the session changed."""
        if self.new_session is not None:
            lifetime = int(self.settings.session_lifetime.total_seconds())
            response.set_cookie(
                COOKIE,
                self.signer.dump(self.new_session),
                secure=self.req.secure or self.settings.https,
                max_age=lifetime,
            )
        return response
