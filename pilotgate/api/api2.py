"""API-2 (`/api2.php`): one JSON or XML document, several commands, packets of different
texts (contract §12). The commands run the same use cases as API-1; this module only reads the
document (`documents`, `domain.packets`) and writes the answer with API-2's value types
(api2_answers.py). An XML request is answered in XML.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from pilotgate.domain import idempotency, packets
from pilotgate.domain.accounts import Account
from pilotgate.domain.idempotency import Claim
from pilotgate.errors import ApiError, GatewayError, TooFastError
from pilotgate.gateway import Credentials, Gateway, SendRequest
from pilotgate.pipeline import metrics

from . import api2_answers as answers, documents, render, retries

log = logging.getLogger("pilotgate.api2")
#: Characters of one document field copied into a debug mail.
_DEBUG_CHARS = 20_000


@dataclasses.dataclass(frozen=True, slots=True)
class Api2Outcome:
    """The answer to one request, a result for metrics ("ok" or the error code), and for
    an authenticated caller the `debug=` address it gave, if any."""

    answer: render.HttpAnswer
    result: str
    account: Account | None = None
    debug: str | None = None
    #: The document's top-level fields as text, for the debug mail (which masks secrets).
    values: Mapping[str, str] = dataclasses.field(default_factory=dict)


async def handle(
    gateway: Gateway,
    query: bytes,
    body: bytes,
    content_type: str,
    client_ip: str,
    *,
    key: str | None = None,
) -> Api2Outcome:
    """Answer one request (see `Api2Outcome`). `key`: the `Idempotency-Key` header's, which
    the document's `idempotency_key` stands in for (api/retries.py)."""
    xml = False
    account: Account | None = None
    debug: str | None = None
    values: dict[str, str] = {}
    try:
        located = documents.locate(query, body, content_type)
        xml = located.xml  # from here on, even errors are answered in XML
        document = documents.parse(located)
        apikey, login, password = packets.credentials(document)
        account = await gateway.authenticate(
            Credentials(apikey=apikey, login=login, password=password), client_ip
        )
        await gateway.pace(account)
        # `debug` and `r` may come in the document or the query (contract §12, §14).
        debug = _extra(document, query, "debug")
        if debug is not None:
            values = {key: _as_text(value) for key, value in document.items()}
        await _referrer(gateway, account, _extra(document, query, "r"))
        commands = packets.parse(document, max_items=gateway.policy.max_recipients)
        caller, as_xml = account, xml
        claim = retries.claim_of(
            key or _extra(document, query, idempotency.PARAMETER),
            lambda: idempotency.document_fingerprint("/api2.php", query, body),
        )

        async def answer(claim: Claim | None) -> render.HttpAnswer:
            return answers.encode(await run(gateway, caller, commands, claim), as_xml)

        encoded = await retries.once(gateway, caller, claim, answer)
    except TooFastError as exc:
        metrics.RATE_REFUSALS.inc()
        error = render.too_fast(exc.retry_after, "xml" if xml else "json", "en", "utf-8")
        return Api2Outcome(error, str(exc.code), account, debug, values)
    except ApiError as exc:
        error = render.error(exc.code, "xml" if xml else "json", "en", "utf-8")
        return Api2Outcome(error, str(exc.code), account, debug, values)
    return Api2Outcome(encoded, "ok", account, debug, values)


def _as_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text[:_DEBUG_CHARS]


def _extra(document: Mapping[str, Any], query: bytes, name: str) -> str | None:
    """A top-level string of the document, else the query string's value."""
    value = document.get(name)
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value)
    found = parse_qs(query.decode("latin-1"), keep_blank_values=True).get(name)
    return found[0] if found else None


async def _referrer(gateway: Gateway, account: Account, raw: str | None) -> None:
    """`r=` records the caller's referrer, as in API-1; it never changes the answer."""
    if raw is None or account.referrer_id is not None:
        return
    try:
        await gateway.link_referrer(account, raw)
    except GatewayError:
        log.exception("r=%r of account %s not recorded", raw[:32], account.id)


async def run(
    gateway: Gateway, account: Account, commands: packets.Commands, claim: Claim | None = None
) -> dict[str, Any]:
    """Run the commands in a fixed order (send first, so a balance asked for in the same
    document already shows its debit) and merge their answers into one object. A send
    stores its messages with `claim` (api/retries.py)."""
    answer: dict[str, Any] = {}
    if commands.send is not None:
        sent, balance = await _send(gateway, account, commands, claim)
        answer.update(sent)
        account = dataclasses.replace(account, balance=balance)
    if commands.cancel is not None:
        answer["cancel"], balance = await _cancel(gateway, account, commands.cancel)
        account = dataclasses.replace(account, balance=balance)
    if commands.check is not None or commands.check_packet is not None:
        answer["check"] = await _check(gateway, account, commands)
    if commands.balance == "sms":
        answer["balance"] = await gateway.balance_sms(account)
    elif commands.balance:
        answer["balance"] = answers.money(account.balance)
    if commands.info:
        answer["info"] = await _info(gateway, account)
    if commands.inbound is not None:
        answer["inbound"] = [
            {
                "id": m.id,
                "phone": m.phone,
                "num": m.num,
                "text": m.text,
                "created": render.when(m.created),
                "server_id": str(m.server_id) if m.server_id else "",
            }
            for m in await gateway.inbound(account, commands.inbound)
        ]
    return answer


async def _send(
    gateway: Gateway, account: Account, commands: packets.Commands, claim: Claim | None
) -> tuple[dict[str, Any], int]:
    """The send answer, and the balance after it."""
    items = commands.send or []
    valid = [item for item in items if not item.error]
    result = await gateway.send_packet(
        account,
        [
            SendRequest(
                text=item.text,
                to=item.to,
                sender=item.sender,
                send_datetime=item.send_datetime,
                ttl=item.ttl,
                callback=item.callback,
                callback_method=item.callback_method,
                test=commands.test,
                cost_only=commands.cost,
                client_id=answers.stored_id(item.id),
            )
            for item in valid
        ],
        cost_only=commands.cost,
        claim=claim,
    )
    outcomes = iter(result.items)
    rows = []
    for item in items:
        outcome = item.error or next(outcomes)
        if isinstance(outcome, int):
            rows.append(answers.failed(item, outcome))
        else:
            rows.append(answers.sent(item, *outcome))
    answer = {
        "send": rows,
        "server_packet_id": str(result.packet_id),
        "balance": answers.money(result.balance),
        "cost": answers.money(result.cost),
    }
    return answer, result.balance


async def _check(
    gateway: Gateway, account: Account, commands: packets.Commands
) -> list[dict[str, Any]]:
    if commands.check_packet is not None:
        found = await gateway.packet(
            account, commands.check_packet, limit=packets.MAX_CHECK_IDS, offset=0
        )
        return [answers.message(str(m.server_id), m) for m in found]
    entries = commands.check or []
    messages = await gateway.check(account, [i for _, i in entries if i is not None])
    rows = []
    for sent, server_id in entries:
        if server_id in messages:
            rows.append(answers.message(str(server_id), messages[server_id]))
        else:
            # Not an id (301), or no message of this account (302): never another's data.
            code = 302 if server_id is not None else (301 if sent else 300)
            rows.append(answers.unknown(sent, code))
    return rows


async def _cancel(
    gateway: Gateway, account: Account, entries: list[tuple[str, int | None]]
) -> tuple[list[dict[str, Any]], int]:
    """Each item cancelled (a check item, status -2 error 604) or refused on its own: 300 no
    id, 301 not an id, 302 no message of the caller, 305 no longer scheduled. With the
    balance after the refunds, for a `balance` asked in the same document."""
    rows, cancelled = [], False
    for sent, server_id in entries:
        try:
            if server_id is None:
                raise ApiError(301 if sent else 300)
            rows.append(answers.message(sent, await gateway.cancel(account, server_id)))
            cancelled = True
        except ApiError as error:
            rows.append(answers.unknown(sent, error.code))
    return rows, (await gateway.balance(account) if cancelled else account.balance)


async def _info(gateway: Gateway, account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "tariff_id": account.tariff_id,
        "email": account.email,
        "phone": account.phone,
        "name": account.name,
        "balance": answers.money(account.balance),
        "date": render.when(account.created),
        "senders": ",".join(await gateway.approved_senders(account)),
        "default_sender": account.default_sender or gateway.policy.default_sender,
        "any_sender": 1 if account.any_sender else 0,
    }
