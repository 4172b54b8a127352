"""The error catalogue of the wire contract (docs/contract.md §16): code → (English,
Russian). Clients compare these strings, so they are copied exactly, typos of the original
service included ("dublicated")."""

from __future__ import annotations

CATALOGUE: dict[int, tuple[str, str]] = {
    0: ("Success", "Нет ошибок"),
    10: ("INPUT data is required", "Нет входных данных"),
    11: ("Unknown INPUT format", "Неизвестный формат"),
    12: ("XML structure is invalid", "Ошибка XML"),
    13: ("JSON structure is invalid", "Ошибка JSON"),
    14: ("Unknown COMMAND", "Неизвестная команда"),
    100: ("APIKEY is required", "Не указан API-ключ (параметр apikey)"),
    101: ("APIKEY is invalid", "Неправильный API-ключ (см. настройки API в личном кабинете)"),
    102: ("APIKEY not found", "Такой API-ключ не найден в системе"),
    105: ("User is blocked (balance)", "Пользователь блокирован из-за низкого баланса"),
    106: ("User is blocked (spam)", "Пользователь блокирован за спам/ошибки"),
    107: (
        "User is blocked (untrusted)",
        "Пользователь блокирован за недостоверные учетные данные",
    ),
    108: ("Phone is required", "Не указан телефон"),
    110: ("System error", "Системная ошибка"),
    111: ("Invalid phone", "Неправильный номер телефона"),
    112: ("No money", "Нет денег"),
    113: ("IP restriction", "Недопустимый IP"),
    115: ("Invalid sender", "Неправильный отправитель"),
    200: ("Sender (from) is required", "Не указан отправитель"),
    201: ("Sender (from) is invalid", "Неправильный формат отправителя"),
    204: ("Sender (from) unregistered", "Отправитель (from) не зарегистрирован, либо отключен"),
    212: ("Phone in black list", "Телефон в черном списке"),
    213: ("Unsupported operator", "Оператор не поддерживается"),
    214: ("Phone is dublicated", "Дубликат получателя"),
    215: ("Invalid phone length", "Неправильная длина номера телефона"),
    220: ("TEXT is required", "Введите текст сообщения"),
    221: ("TEXT too long", "Текст сообщения слишком длинный"),
    223: ("Spam protection", "Защита от спама"),
    226: ("Shared sender disabled", "Отключены общие каналы"),
    230: ("ID is invalid", "ID неправильный"),
    231: ("PACKET_ID is invalid", "PACKET_ID неправильный"),
    240: ("Invalid SMS list", "Неправильный список SMS"),
    243: ("Loop protection", "Защита от дубликатов"),
    247: ("Filter", "Фильтр"),
    248: ("CyrLat filter", "Фильтр CyrLat"),
    250: ("Invalid SEND_DATETIME", "Неправильное время отправки send_datetime"),
    260: ("Invalid callback URL", "Неправильный адрес скрипта callback"),
    270: ("Invalid ttl", "Неправильное время жизни сообщения ttl"),
    275: ("Invalid list fields", "Неправильный список полей fields"),
    300: ("SMS server_id is required", "server_id не указан"),
    301: ("SMS server_id is invalid", "server_id неправильный"),
    302: ("SMS server_id not found", "SMS не найдена"),
    303: ("Invalid IDs list", "Ошибка запроса"),
    304: ("SERVER_PACKET_ID is invalid", "server_packet_id неправильный"),
    # Ours (docs/decisions.md, "Cancelling a scheduled message"): a cancel of a message
    # that is no longer scheduled (already queued, sent or ended).
    305: ("SMS cannot be cancelled", "SMS нельзя отменить"),
    400: ("User not found", "Пользователь не найден"),
    401: ("Invalid login details", "Не введен логин или пароль"),
    500: (
        "Invalid -since- format YYYY-MM-DD HH:II:SS",
        "Неправильный формат параметра -since- YYYY-MM-DD HH:II:SS",
    ),
    600: ("Expired", "Просрочено"),
    601: ("Undeliverable", "Невозможно доставить"),
    602: ("Destination unreachable", "Номер недоступен"),
    603: ("Rejected", "Отказано оператором"),
    604: ("Cancelled", "Отменено"),
    605: ("The recipient has disabled such messages", "Абонент запретил отправлять ему SMS"),
    # Ours, not the original service's (docs/decisions.md, crash safety): a worker died
    # between claiming the message and recording its hand-over.
    606: ("Hand-over interrupted, delivery unknown", "Передача прервана, доставка неизвестна"),
    # Ours (docs/decisions.md, "Idempotent retries"): an Idempotency-Key seen with another
    # request, and a repeat whose first request has not been answered yet.
    280: (
        "Idempotency key reused with another request",
        "Ключ идемпотентности уже использован с другим запросом",
    ),
    281: ("Request with this idempotency key in progress", "Запрос с этим ключом ещё выполняется"),
    640: ("Sender is required", "Введите имя отправителя"),
    641: ("Sender is invalid", "Неправильное имя отправителя"),
    642: ("Sender is added", "Уже добавленное имя отправителя"),
    643: ("Description is required", "Введите название проекта, сайт, примеры сообщений"),
    644: ("Callback is required (URL or email)", "Нужен callback (URL или email)"),
    645: ("Callback is invalid (URL or email)", "Неправильный callback (URL или email)"),
}

#: The error of a message whose hand-over to a connector is unknown (see 606 above).
HANDOVER_UNKNOWN = 606
#: The error of a scheduled message its owner cancelled (status -2, refunded).
CANCELLED = 604
#: A cancel of a message that is no longer scheduled.
NOT_CANCELLABLE = 305


def english(code: int) -> str:
    """The English description of `code` ("" for 0 is never needed: 0 is "Success")."""
    return CATALOGUE.get(code, CATALOGUE[110])[0]


def russian(code: int) -> str:
    """The Russian description of `code`."""
    return CATALOGUE.get(code, CATALOGUE[110])[1]
