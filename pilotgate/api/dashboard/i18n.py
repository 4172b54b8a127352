"""The dashboard's message catalogue: English is the key, Russian the translation. A text
missing here shows in English. The language comes from `?lang=`, then the session, then the
browser's Accept-Language."""

from __future__ import annotations

LANGUAGES = ("en", "ru")

RU: dict[str, str] = {
    "Customer cabinet": "Личный кабинет",
    "Operator console": "Консоль оператора",
    "Log in": "Войти",
    "Log out": "Выйти",
    "E-mail": "E-mail",
    "Password": "Пароль",
    "SMPP binds and messages per second (0 = no limit, empty = the default)": (
        "Подключения SMPP и сообщений в секунду (0 = без ограничения, пусто = по умолчанию)"
    ),
    "Binds": "Подключения",
    "Messages per second": "Сообщений в секунду",
    "Wrong e-mail or password.": "Неверный e-mail или пароль.",
    "Too many failed attempts; try again later.": "Слишком много неудачных попыток; "
    "попробуйте позже.",
    "Too many logins at once; try again.": "Слишком много входов одновременно; попробуйте ещё раз.",
    "This account is blocked.": "Учётная запись заблокирована.",
    "The form has expired; please try again.": "Форма устарела; попробуйте ещё раз.",
    "Overview": "Обзор",
    "Send": "Отправить",
    "Send SMS": "Отправка SMS",
    "History": "История",
    "Inbound": "Входящие",
    "Balance": "Баланс",
    "Statistics": "Статистика",
    "Senders": "Отправители",
    "Settings": "Настройки",
    "API key": "API-ключ",
    "API": "API",
    "Referrals": "Рефералы",
    "Bind to": "Подключайтесь к",
    "with": "с",
    "and the SMPP password the operator gave you.": "и паролем SMPP, который выдал оператор.",
    "SMPP access is set up by the operator on request.": "Доступ по SMPP настраивает оператор "
    "по запросу.",
    "API reference": "Справочник API",
    "every command, parameter, answer and error code": "все команды, параметры, ответы и "
    "коды ошибок",
    "The same description for tools (OpenAPI 3.1):": "То же описание для программ (OpenAPI 3.1):",
    "Examples": "Примеры",
    "Parameter": "Параметр",
    "In": "Где",
    "Values": "Значения",
    "Meaning": "Смысл",
    "Body": "Тело запроса",
    "Documents and answers": "Документы и ответы",
    "Field": "Поле",
    "Error codes": "Коды ошибок",
    "Code": "Код",
    "Change password": "Сменить пароль",
    "Current password": "Текущий пароль",
    "New password": "Новый пароль",
    "Password changed.": "Пароль изменён.",
    "The current password is wrong.": "Текущий пароль неверен.",
    "The new password must have 8 to 1024 characters.": "Новый пароль должен содержать "
    "от 8 до 1024 символов.",
    "Saved.": "Сохранено.",
    "Protection": "Защита",
    "Countries it may send to (ISO codes, comma-separated; * = any; empty = the default set)": (
        "Страны, куда можно отправлять (коды ISO через запятую; * = любые; пусто = по умолчанию)"
    ),
    "Stop words, one per line (error 247)": "Стоп-слова, по одному в строке (ошибка 247)",
    "Refuse words mixing Cyrillic and Latin letters (error 248)": (
        "Отклонять слова, смешивающие кириллицу и латиницу (ошибка 248)"
    ),
    "Countries you may send to": "Страны, куда можно отправлять",
    "Messages per day": "Сообщений в сутки",
    "Messages per month": "Сообщений в месяц",
    "API requests per second": "Запросов к API в секунду",
    "Messages per second leaving the queue": "Сообщений в секунду из очереди",
    "API requests per second (0 = no limit; empty = the default)": (
        "Запросов к API в секунду (0 = без ограничения; пусто = по умолчанию)"
    ),
    "Messages per second leaving the queue (0 = no limit; empty = the default)": (
        "Сообщений в секунду из очереди (0 = без ограничения; пусто = по умолчанию)"
    ),
    "Messages per day (0 = no cap; empty = the default)": (
        "Сообщений в сутки (0 = без ограничения; пусто = по умолчанию)"
    ),
    "Messages per month (0 = no cap; empty = the default)": (
        "Сообщений в месяц (0 = без ограничения; пусто = по умолчанию)"
    ),
    "Words mixing Cyrillic and Latin letters are refused (error 248).": (
        "Слова, смешивающие кириллицу и латиницу, отклоняются (ошибка 248)."
    ),
    "Texts with the operator's stop words are refused (error 247).": (
        "Тексты со стоп-словами оператора отклоняются (ошибка 247)."
    ),
    "Save": "Сохранить",
    "Phones": "Телефоны",
    "Text": "Текст",
    "Sender": "Отправитель",
    "Schedule (UTC)": "Отложить до (UTC)",
    "Test mode (nothing leaves the gateway)": "Тестовый режим (ничего не уходит наружу)",
    "parts": "частей",
    "price": "цена",
    "characters": "символов",
    "Sent": "Отправлено",
    "Status": "Статус",
    "Phone": "Телефон",
    "Channel": "Канал",
    "Created": "Создано",
    "Price": "Цена",
    "Parts": "Частей",
    "Error": "Ошибка",
    "From": "С",
    "To": "По",
    "Search in text": "Поиск в тексте",
    "Filter": "Фильтр",
    "Next page": "Следующая страница",
    "Searched back to message": "Поиск дошёл до сообщения",
    "Search older messages": "Искать в более старых сообщениях",
    "Export CSV": "Выгрузить CSV",
    "any": "любой",
    "Message": "Сообщение",
    "Status timeline": "История статусов",
    "Callback attempts": "Попытки callback",
    "Attempts": "Попыток",
    "Done": "Завершено",
    "No callback URL was set for this message.": "Для сообщения не был задан callback.",
    "Number": "Номер",
    "Amount": "Сумма",
    "Kind": "Вид",
    "Note": "Примечание",
    "Audit": "Журнал изменений",
    "Ledger": "Движение средств",
    "Messages per day by status": "Сообщения по дням и статусам",
    "Delivery rate": "Доля доставленных",
    "Spend per day": "Расходы по дням",
    "By operator": "По операторам",
    "Operator": "Оператор",
    "Messages": "Сообщений",
    "Spend": "Расход",
    "Days": "Дней",
    "Status callback URL": "URL для статусов (callback)",
    "Callback method": "Метод callback",
    "Callback secret": "Секрет подписи callback",
    "Rotate the secret": "Сменить секрет",
    "Inbound URL": "URL для входящих",
    "Allowed IPs (comma-separated; empty = any)": "Разрешённые IP (через запятую; пусто — любые)",
    "Loop window, seconds (empty = gateway default, 0 = off)": "Окно защиты от повторов, "
    "секунд (пусто — по умолчанию, 0 — выкл.)",
    "Default sender": "Отправитель по умолчанию",
    "Name": "Имя",
    "Description (project, site, sample texts)": "Описание (проект, сайт, примеры текстов)",
    "Callback for the verdict (URL or e-mail)": "Куда сообщить решение (URL или e-mail)",
    "Request": "Запросить",
    "State": "Состояние",
    "pending": "на рассмотрении",
    "approved": "одобрено",
    "rejected": "отклонено",
    "Regenerate the key": "Выпустить новый ключ",
    "Your new API key (shown only now; the old key no longer works):": "Ваш новый API-ключ "
    "(показан только сейчас; старый ключ больше не действует):",
    "Keys are stored only as digests, so the current key cannot be shown again. Regenerate "
    "it to get a new one.": "Ключи хранятся только в виде хешей, поэтому текущий ключ нельзя "
    "показать снова. Выпустите новый ключ.",
    "Your referral link parameter": "Ваш реферальный параметр",
    "Commission": "Комиссия",
    "Account": "Аккаунт",
    "Accounts": "Аккаунты",
    "Sender approvals": "Одобрение отправителей",
    "Tariffs": "Тарифы",
    "Connectors": "Коннекторы",
    "Routes": "Маршруты",
    "Queue": "Очередь",
    "SMPP binds": "SMPP-сессии",
    "Bind type": "Тип сессии",
    "Address": "Адрес",
    "Node": "Узел",
    "Bound since": "С момента",
    "Window in use": "Окно занято",
    "msgs/s": "сообщ./с",
    "Receipts waiting": "Ждут отчёты",
    "No live binds.": "Нет активных сессий.",
    "Stop list": "Стоп-лист",
    "Create": "Создать",
    "Top up": "Пополнить",
    "Block": "Заблокировать",
    "Unblock": "Разблокировать",
    "Tariff": "Тариф",
    "Approve": "Одобрить",
    "Reject": "Отклонить",
    "Reason": "Причина",
    "Import CSV": "Импорт CSV",
    "Enable": "Включить",
    "Disable": "Выключить",
    "Add": "Добавить",
    "Remove": "Удалить",
    "Nothing here yet.": "Пока пусто.",
    "error": "ошибка",
    "not delivered": "не доставлено",
    "accepted": "принято",
    "handed over": "передано оператору",
    "delivered": "доставлено",
    "scheduled": "запланировано",
    "held": "задержано",
    "Held": "Задержанные",
    "Held messages": "Задержанные сообщения",
    "Release": "Отправить",
    "Numbers": "Номера",
    "Charged on release": "Спишется при отправке",
    "First": "Первое",
    "Last": "Последнее",
    "in progress": "в процессе",
    "all": "все",
    "Page not found.": "Страница не найдена.",
    "Forbidden.": "Доступ запрещён.",
    "The request is too large.": "Слишком большой запрос.",
}


def translate(text: str, lang: str) -> str:
    if lang == "ru":
        return RU.get(text, text)
    return text


def choose(query: str, session: str, accept: str) -> str:
    for candidate in (query, session):
        if candidate in LANGUAGES:
            return candidate
    return "ru" if accept.lower().startswith("ru") else "en"
