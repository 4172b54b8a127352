"""`Settings`: every setting of the gateway, one typed, frozen object with its default; the
environment variable of each is `PILOTGATE_` and its name in capitals (loading.py)."""

from __future__ import annotations

from dataclasses import dataclass

from pilotgate.config.tables import ConnectorSpec, RouteSpec
from pilotgate.domain import stoplist


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    #: `sqlite:///relative/path.db`, `sqlite:////absolute/path.db` or `postgresql://…`
    database_url: str = "sqlite:///./data/pilotgate.db"
    #: PostgreSQL: let psycopg prepare frequent statements by name on the server. `false`
    #: when `database_url` points at PgBouncer in transaction pooling mode older than 1.21 or
    #: without `max_prepared_statements` (docs/pooling.md).
    postgres_prepare: bool = True
    #: SQLite durability: NORMAL survives a process crash, FULL also a power cut.
    sqlite_synchronous: str = "NORMAL"
    host: str = "127.0.0.1"
    port: int = 8000
    #: Largest accepted request body; larger ones get HTTP 413.
    max_body_bytes: int = 4 * 1024 * 1024
    #: Largest request line plus headers: room for a GET naming 10,000 recipients. A larger
    #: API call is answered with an API error (240, 221 or 11), anything else with HTTP 431.
    max_head_bytes: int = 512 * 1024
    #: Seconds a client has to send its request line and headers, then its body; too slow
    #: is HTTP 408 (slow clients, THREAT_MODEL.md).
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    #: Connections one process holds at most; 0 = as many as its open-files limit allows
    #: (three quarters of it). At the limit the longest-waiting idle one is closed.
    max_connections: int = 0
    #: Prometheus `/metrics`: its own listener ("127.0.0.1:9108"; "" = none), and the bearer
    #: token that opens it on the API port (and on that listener, when set). Without either
    #: the API port answers /metrics 404, unless `metrics_public` (what `pilotgate demo` sets).
    metrics_listen: str = ""
    metrics_token: str = ""
    metrics_public: bool = False
    #: Reverse proxies in front of the API ("10.0.0.5, 192.168.0.0/24"; a TOML list too):
    #: only from them are X-Forwarded-For and X-Real-IP believed (api/proxies.py).
    trusted_proxies: str = ""
    #: Most recipients one API-1 send may name (more → error 240).
    max_recipients: int = 10_000
    #: Most parts one SMS may have (more → error 221).
    max_parts: int = 10
    #: The shared sender every account may use; also the default when an account has none.
    default_sender: str = "INFORM"
    #: Prefix whose one-part SMS price `balance=sms` divides by.
    home_prefix: str = "7"
    #: Tariff given to new accounts.
    default_tariff: int = 1
    #: Seconds a cached tariff is reused before it is read again.
    tariff_cache_seconds: float = 5.0
    #: The brand mapping `pilotgate numbering import` applies (`inn;legal name;brand;mnc`);
    #: "" = the shipped one (pilotgate/data/operator_brands.csv).
    numbering_brands: str = ""
    #: Run the delivery pipeline inside `serve`.
    pipeline: bool = True
    #: Emulator: seconds from hand-over to the final status, and which numbers fail.
    emulator_delay: float = 1.0
    #: Numbers ending in one of these digits are not delivered (-1, error 601).
    emulator_fail_suffixes: str = "0"
    #: Viber messages to numbers ending in one of these digits find no Viber (-1, error 605);
    #: a VIBERSMS message then falls back to SMS.
    emulator_no_viber_suffixes: str = "9"
    #: File the emulator appends every received server_id to ("" = none); for tests.
    emulator_journal: str = ""
    #: Outbox: how many messages one claim takes, lease length, idle poll interval.
    claim_batch: int = 500
    lease_seconds: float = 30.0
    poll_interval: float = 0.2
    #: Seconds after its lease ran out that a message whose worker died between claiming it
    #: and recording its hand-over ends -1 with error 606 (hand-over unknown).
    handover_unknown_after: float = 300.0
    #: Days messages, inbound messages and ledger detail are kept (docs/retention.md); older
    #: ones leave by themselves, balances stay exact. 0 keeps everything.
    retention_days: int = 0
    #: Seconds a process holds a link (SMPP bind) without renewing before another process
    #: takes it over; renewed every third of that.
    link_lease_seconds: float = 15.0
    #: Seconds a message without `ttl` may take to reach a final status before it expires
    #: (-1, error 600): the connector's default validity.
    default_validity_seconds: float = 86400.0
    #: Networks callbacks may reach although they are internal, e.g. "127.0.0.0/8"; by
    #: default loopback, private, link-local and metadata addresses are refused.
    callback_allow_networks: str = ""
    #: Seconds one callback attempt may take; attempts running at once.
    callback_timeout: float = 30.0
    callback_concurrency: int = 50
    #: Retry schedule: first delay, doubling up to the cap, given up after this many seconds.
    callback_retry_first: float = 10.0
    callback_retry_cap: float = 3600.0
    callback_give_up_after: float = 90000.0
    #: Seconds a graceful stop waits for in-flight requests.
    shutdown_timeout: float = 10.0
    #: Connectors and routes from the config file, applied at start (they replace what the
    #: CLI set for the same names and prefixes):
    #:     [[connector]]                      [[route]]
    #:     name = "backup"                    prefix = "7916"
    #:     kind = "emulator"                  channel = "sms"
    #:     mps = 50                           connectors = ["emulator", "backup"]
    connectors: tuple[ConnectorSpec, ...] = ()
    routes: tuple[RouteSpec, ...] = ()
    log_level: str = "info"
    #: "text" for people, "json" for one JSON object per line.
    log_format: str = "text"
    #: Inbound texts (whole, case-insensitive) that put their sender on the account's stop
    #: list (error 212 when sent to); comma-separated.
    stop_words: str = stoplist.DEFAULT_STOP_WORDS
    #: Loop protection (243): seconds in which the same text to the same phone is refused,
    #: for accounts without their own window (`account set --loop-window`); 0 = off.
    loop_window_seconds: int = 0
    #: Countries (ISO codes, comma-separated; "*" = any) accounts without their own set may
    #: send to (contract §17.2); "" = Russia and the countries the default tariff lists.
    default_countries: str = ""
    #: Messages an account without its own caps may send per UTC day and month (error 223
    #: past either); 0 = no cap.
    default_day_cap: int = 0
    default_month_cap: int = 0
    #: API requests per second and messages per second leaving the queue for accounts
    #: without their own rates (contract §17.5); 0 = no limit.
    default_api_rps: int = 0
    default_mps: int = 0
    #: The SMS-pumping defence (contract §17.6, domain/pumping.py): a suspicious message is
    #: held (status 4) for the operator. Counting window in seconds; messages of one account
    #: (or API address) to one range of numbers sharing their first `range_digits` digits;
    #: to destinations whose one part costs `premium_price` or more; a run of this many
    #: sequential numbers in one request; messages to countries new to the account (their
    #: share of its messages in the window at least `new_country_share` percent). A limit
    #: of 0 switches its rule off; `pumping = false` all of them.
    pumping: bool = True
    pumping_window_seconds: int = 600
    pumping_range_digits: int = 8
    pumping_range_limit: int = 10
    pumping_premium_price: str = "8.00"
    pumping_premium_limit: int = 10
    pumping_sequence_run: int = 4
    pumping_new_country_limit: int = 10
    pumping_new_country_share: int = 50
    #: An http(s) URL the gateway POSTs a JSON alert to when a send has held messages (at
    #: most once a minute per account and process; through `callback_allow_networks`'
    #: address policy, an IP literal written here allowed); "" = none.
    pumping_alert_url: str = ""
    #: A referrer's share of what the accounts it referred spend (`r=`), in whole percent.
    referral_percent: int = 10
    #: Two-way SMS (from=2WAY): hours in which a reply from the phone to the pool number the
    #: message went from is linked to it (contract §13.5).
    two_way_hours: float = 72.0
    #: SMTP relay for debug mail (`debug=`); "" = debug mail is not sent.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "pilotgate@localhost"
    smtp_timeout: float = 30.0
    #: Debug mails one account may have per hour (per process); more are dropped.
    debug_mail_per_hour: int = 20
    #: The web dashboard (/cabinet, /console): largest form body, largest upload (tariff CSV),
    #: failed logins per e-mail and address within `dashboard_lockout_minutes` before further
    #: attempts are refused (the API's login+password counts too: one lockout for every
    #: password check), and how long a session lasts.
    dashboard_max_form_bytes: int = 64 * 1024
    dashboard_max_upload_bytes: int = 2 * 1024 * 1024
    dashboard_lockout_attempts: int = 5
    dashboard_lockout_minutes: float = 15.0
    dashboard_session_hours: float = 12.0
    #: Password checks (argon2, 64 MiB and ~0.2 s of CPU each) that run at once, and how many
    #: more may wait; past that a login+password is answered 110 (the cabinet: 429).
    password_check_threads: int = 1
    #: argon2id's cost for new password hashes: memory in KiB, passes, lanes. The defaults
    #: are argon2-cffi's (RFC 9106's second profile); the floor is OWASP's smallest
    #: recommended set (19,456 KiB, 2 passes, 1 lane). Existing hashes verify whatever
    #: they were made with (docs/decisions.md, "What a password hash costs").
    password_hash_memory_kib: int = 65536
    password_hash_passes: int = 3
    password_hash_lanes: int = 4
    password_check_queue: int = 32
    #: Seconds a password that verified is taken as right again without argon2 (clients that
    #: send login+password with every request); 0 verifies every time.
    password_remember_seconds: float = 300.0
    #: Mark session cookies Secure even on plain http (TLS ended by a proxy in front).
    dashboard_https: bool = False
    #: Messages of the account one history page with a text search examines at most (newest
    #: first); the page then offers a link that searches on further back.
    dashboard_search_window: int = 100_000
    #: Voice calls (GOLOS, GOLOSM): the longest speech in seconds; a longer text is refused
    #: with 221 (at send time when its length says so, else when it is synthesized).
    voice_max_seconds: float = 90.0
    #: Where synthesized speech is cached, one file per text and voice.
    speech_cache_dir: str = "./data/speech"
    #: SMPP for customers' systems (docs/smpp.md "PilotGate as an SMSC"): "HOST:PORT" the
    #: API processes listen on ("" = none), the largest PDU a client may send (a larger
    #: command_length closes its session), seconds between our enquire_link on a quiet
    #: session, seconds without a PDU from the client before it is taken for dead, seconds a
    #: new connection has to bind, and the submit_sm one session may have in flight (past it:
    #: ESME_RTHROTTLED).
    smpp_listen: str = ""
    smpp_max_pdu_bytes: int = 16_384
    smpp_enquire_seconds: float = 30.0
    smpp_dead_seconds: float = 90.0
    smpp_bind_seconds: float = 10.0
    smpp_window: int = 100
    #: Limits per account across every process and node (docs/smpp.md "Limits"): concurrent
    #: binds (past it: ESME_RBINDFAIL) and messages per second (past it: ESME_RTHROTTLED),
    #: 0 = none; an account's own values (`account set --smpp-binds/--smpp-mps`) win. A
    #: process's bind rows live `smpp_bind_lease` seconds unless renewed.
    smpp_max_binds: int = 10
    smpp_mps: int = 0
    smpp_bind_lease: float = 15.0
    #: SMPP over TLS ("HOST:PORT", "" = none): the same sessions as `smpp_listen`, inside
    #: TLS 1.2 or later with the PEM certificate chain and private key named below (both
    #: required when it is set; read once at start).
    smpp_tls_listen: str = ""
    smpp_tls_cert: str = ""
    smpp_tls_key: str = ""
    #: Addresses and networks of TCP proxies in front of the SMPP listeners (nginx's stream
    #: module, deploy/nginx/pilotgate-smpp.conf): their connections start with a PROXY
    #: protocol v1 header naming the client, whose address then counts for the accounts'
    #: IP allow-lists and the logs. From anyone else such a header is refused as bad SMPP.
    smpp_proxies: str = ""
    #: Receipts and inbound SMS owed to customers' receiving binds: hours they wait for a
    #: bind before they are dropped, seconds between a bind's looks for new ones, and how
    #: many deliver_sm one bind may have awaiting their deliver_sm_resp.
    smpp_receipt_validity: float = 72.0
    smpp_receipt_poll: float = 0.5
    smpp_receipt_window: int = 50
