"""API-1 (`/api.php`): one command per request, chosen by the first present parameter
(contract §3): send → check → cancel → balance → inbound → add_sender → list=senders → user
info."""

from __future__ import annotations

import logging

from pilotgate.domain import money, params as rules
from pilotgate.domain.accounts import Account
from pilotgate.domain.idempotency import Claim
from pilotgate.domain.messages import Message
from pilotgate.errors import ApiError, GatewayError
from pilotgate.gateway import Credentials, Gateway, SendRequest

from . import render
from .request import Params

log = logging.getLogger("pilotgate.api")

MAX_CHECK_IDS = 1000
MAX_OFFSET = 2**62


def credentials(p: Params) -> Credentials:
    return Credentials(apikey=p.get("apikey"), login=p.get("login"), password=p.get("password"))


def command_of(p: Params) -> str:
    """The command `run` will run, for metrics."""
    for name in ("send", "check", "cancel", "balance", "inbound", "add_sender"):
        if p.has(name):
            return name
    return "senders" if (p.get("list") or "").lower() == "senders" else "info"


async def run(
    gateway: Gateway, account: Account, p: Params, claim: Claim | None = None, source: str = ""
) -> render.HttpAnswer:
    """Run the command of an authenticated request; ApiError propagates to the caller. A
    send stores its messages with `claim` (api/retries.py)."""
    await _referrer(gateway, account, p.get("r"))
    if p.has("send"):
        return await _send(gateway, account, p, claim, source)
    if p.has("check"):
        return await _check(gateway, account, p)
    if p.has("cancel"):
        return await _cancel(gateway, account, p)
    if p.has("balance"):
        return await _balance(gateway, account, p)
    if p.has("inbound"):
        return await _inbound(gateway, account, p)
    if p.has("add_sender"):
        return await _add_sender(gateway, account, p)
    if (p.get("list") or "").lower() == "senders":
        return await _senders(gateway, account, p)
    return await _info(gateway, account, p)


async def _referrer(gateway: Gateway, account: Account, raw: str | None) -> None:
    """`r=` records the caller's referrer (contract §14). Like any other parameter the
    caller may add, it never changes the answer: a failure to record it is only logged."""
    if raw is None or account.referrer_id is not None:
        return  # the usual case costs no database round trip
    try:
        await gateway.link_referrer(account, raw)
    except GatewayError:
        log.exception("r=%r of account %s not recorded", raw[:32], account.id)


def _flag(p: Params, name: str) -> bool:
    return (p.get(name) or "0").strip() not in ("0", "")


async def _send(
    gateway: Gateway, account: Account, p: Params, claim: Claim | None, source: str
) -> render.HttpAnswer:
    fields = rules.fields(p.get("fields") or "")
    result = await gateway.send(
        account,
        SendRequest(
            text=p.values.get("send", ""),
            to=p.get("to"),
            sender=p.get("from") or p.get("sender"),
            send_datetime=p.get("send_datetime"),
            ttl=p.get("ttl"),
            callback=p.get("callback"),
            callback_method=p.get("callback_method"),
            test=_flag(p, "test"),
            cost_only=_flag(p, "cost"),
            source=source,
        ),
        claim,
    )
    if _flag(p, "cost"):
        return render.cost(result.cost, p.format, p.charset)
    items = [
        render.message_item(server_id, draft, fields, created=result.created)
        for server_id, draft in result.items
    ]
    return render.send(
        items,
        cost=result.cost,
        balance=result.balance,
        packet_id=result.packet_id,
        fmt=p.format,
        charset=p.charset,
    )


def _page(p: Params) -> tuple[int, int]:
    """limit (default and max 1000) and offset; malformed values fall back to defaults."""
    limit_s, offset_s = p.get("limit") or "", p.get("offset") or ""
    limit = int(limit_s) if limit_s.isdigit() and limit_s.isascii() else MAX_CHECK_IDS
    offset = int(offset_s) if offset_s.isdigit() and offset_s.isascii() else 0
    # An offset past every message is an empty page, not a number the database cannot hold.
    return max(1, min(limit, MAX_CHECK_IDS)), min(offset, MAX_OFFSET)


async def _check(gateway: Gateway, account: Account, p: Params) -> render.HttpAnswer:
    fields = rules.fields(p.get("fields") or "")
    value = (p.get("check") or "").strip().lower()
    limit, offset = _page(p)
    messages: list[Message]
    if not value:
        raise ApiError(300)
    if value in ("recent", "resent"):
        messages = await gateway.recent(account, hours=24, limit=limit, offset=offset)
    elif value == "all":
        messages = await gateway.recent(account, hours=None, limit=limit, offset=offset)
    elif value == "packet":
        packet = (p.get("id") or p.get("server_packet_id") or "").strip()
        if not packet.isdigit() or not packet.isascii():
            raise ApiError(304)
        messages = await gateway.packet(account, int(packet), limit=limit, offset=offset)
        if not messages:
            raise ApiError(304)
    else:
        return await _check_ids(gateway, account, value, fields, p)
    items = [render.message_item(m.server_id, m, fields) for m in messages]
    return render.check(items, p.format, p.charset)


async def _check_ids(
    gateway: Gateway, account: Account, value: str, fields: tuple[str, ...], p: Params
) -> render.HttpAnswer:
    raw = [item.strip() for item in value.split(",") if item.strip()]
    if not raw:
        raise ApiError(300)
    if any(not (item.isdigit() and item.isascii()) for item in raw):
        raise ApiError(301 if len(raw) == 1 else 303)
    if len(raw) > MAX_CHECK_IDS:
        raise ApiError(303)
    ids = [int(item) for item in raw]
    found = await gateway.check(account, ids)
    if len(ids) == 1 and ids[0] not in found:
        raise ApiError(302)
    items = [
        render.message_item(i, found[i], fields) if i in found else render.missing_item(str(i))
        for i in ids
    ]
    return render.check(items, p.format, p.charset)


async def _cancel(gateway: Gateway, account: Account, p: Params) -> render.HttpAnswer:
    """`cancel=<server_id>` (contract §7.1, ours): a scheduled message is cancelled and
    answered as `check` answers it (status -2, error 604)."""
    value = (p.get("cancel") or "").strip()
    if not value:
        raise ApiError(300)
    if not (value.isdigit() and value.isascii()) or len(value) > 18:
        raise ApiError(301)
    message = await gateway.cancel(account, int(value))
    fields = rules.fields(p.get("fields") or "")
    return render.check(
        [render.message_item(message.server_id, message, fields)], p.format, p.charset
    )


async def _balance(gateway: Gateway, account: Account, p: Params) -> render.HttpAnswer:
    if (p.get("balance") or "rur").strip().lower() == "sms":
        value = str(await gateway.balance_sms(account))
    else:
        value = money.format(account.balance)
    return render.scalar("balance", value, p.format, p.charset)


async def _info(gateway: Gateway, account: Account, p: Params) -> render.HttpAnswer:
    senders = await gateway.approved_senders(account)
    values = {
        "id": str(account.id),
        "tariff_id": str(account.tariff_id),
        "email": account.email,
        "name": account.name,
        "phone": account.phone,
        "balance": money.format(account.balance),
        "date": render.when(account.created),
        "default_sender": account.default_sender or gateway.policy.default_sender,
        "any_sender": "1" if account.any_sender else "0",
        "senders": ",".join(senders),
        "allow_ip": account.allow_ip,
    }
    return render.info(values, p.format, p.charset)


async def _inbound(gateway: Gateway, account: Account, p: Params) -> render.HttpAnswer:
    messages = await gateway.inbound(account, p.get("inbound") or "all")
    items = [
        {
            "id": str(m.id),
            "phone": m.phone,
            "num": m.num,
            "text": m.text,
            "created": render.when(m.created),
            "server_id": str(m.server_id) if m.server_id else "",
        }
        for m in messages
    ]
    return render.inbound(items, p.format, p.charset)


async def _add_sender(gateway: Gateway, account: Account, p: Params) -> render.HttpAnswer:
    sender = await gateway.add_sender(
        account, p.get("add_sender") or "", p.get("description") or "", p.get("callback") or ""
    )
    item = {"id": str(sender.id), "name": sender.name, "state": sender.state.value}
    if p.format == "text":
        return render.encode(
            f"SUCCESS=SENDER ADDED\n{sender.id},{sender.name},{sender.state.value}",
            "text",
            p.charset,
        )
    return render.listing(
        "add_sender", "sender", [item], ("id", "name", "state"), p.format, p.charset
    )


async def _senders(gateway: Gateway, account: Account, p: Params) -> render.HttpAnswer:
    items = [
        {"id": str(s.id), "name": s.name, "state": s.state.value, "created": render.when(s.created)}
        for s in await gateway.senders(account)
    ]
    return render.listing("senders", "sender", items, ("name", "state", "id"), p.format, p.charset)
