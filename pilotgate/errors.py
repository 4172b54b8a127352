"""The one exception tree of PilotGate.

    GatewayError
      x ApiError                 an outcome the API answers with a catalogue code (contract §16);
      |                          the api package renders it, everything below raises it
      x StorageError             the database failed; drivers' errors are translated to it
      |  + InsufficientFundsError  the debit would take the balance below zero (code 112)
      |  + ConflictError         a unique value is already taken (e-mail, API key, sender)
      |  |  + KeyClaimedError    an idempotency key is already claimed; nothing was written
      |  + CapReachedError       the submit would pass a message cap (code 223); nothing written
      |  + NotFoundError         the row the caller named does not exist
      x InputError               an operator's input breaks a rule (e-mail, password, tariff…);
      |                          the CLI and the console show its message next to the field
      x ConfigError              a setting is missing or malformed; raised at startup only
      x ConnectorError           a connector could not take a message (retried by the pipeline)

This module imports nothing from pilotgate, so every layer may raise these.
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error PilotGate raises on purpose."""


class ApiError(GatewayError):
    """A request outcome with an error code from the catalogue.

    `code` is the catalogue number; `phone` is set when the error belongs to one recipient.
    """

    def __init__(self, code: int, *, phone: str | None = None, detail: str = "") -> None:
        super().__init__(f"API error {code}{': ' + detail if detail else ''}")
        self.code = code
        self.phone = phone
        self.detail = detail


class StorageError(GatewayError):
    """The database failed in a way the caller cannot fix."""


class InsufficientFundsError(StorageError):
    """The balance does not cover the debit; nothing was written."""


class ConflictError(StorageError):
    """A value that must be unique is already present."""


class KeyClaimedError(ConflictError):
    """A keyed submit found its idempotency key claimed by an earlier one: nothing of it was
    stored or charged."""


class CapReachedError(StorageError):
    """The submit would pass the account's messages per day or month; nothing was written."""


class LockBusyError(StorageError):
    """A statement gave up waiting for a lock other transactions hold (PostgreSQL's
    lock_timeout); nothing of its transaction was written, and trying again may succeed."""


class NotFoundError(StorageError):
    """The named row does not exist."""


class InputError(GatewayError):
    """An operator's input breaks one of the rules every entry point shares (operations).

    `field` names the input ("email", "password", "tariff"…); `problem` says what is wrong.
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class ConfigError(GatewayError):
    """A setting is missing or malformed."""


class ConnectorError(GatewayError):
    """A connector could not take a message now; the pipeline retries it."""
