-- Core schema: accounts, keys, ledger, tariffs, senders, messages (the outbox), inbound.
-- Times are unix microseconds (UTC) in INTEGER columns; money is integer kopecks.
CREATE TABLE tariffs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE tariff_rates (
    tariff_id INTEGER NOT NULL REFERENCES tariffs(id),
    prefix TEXT NOT NULL,
    channel TEXT NOT NULL,
    price INTEGER NOT NULL CHECK (price >= 0),
    country TEXT NOT NULL DEFAULT '',
    operator TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tariff_id, prefix, channel)
);
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    tariff_id INTEGER NOT NULL REFERENCES tariffs(id),
    default_sender TEXT NOT NULL DEFAULT '',
    any_sender INTEGER NOT NULL DEFAULT 0,
    allow_ip TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'active',
    referrer_id INTEGER REFERENCES accounts(id),
    balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    created INTEGER NOT NULL
);
CREATE TABLE api_keys (
    digest TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    created INTEGER NOT NULL
);
CREATE INDEX api_keys_account ON api_keys(account_id);
CREATE TABLE ledger (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    amount INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ref INTEGER,
    note TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL
);
CREATE INDEX ledger_account ON ledger(account_id, id);
CREATE TABLE senders (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    callback TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL,
    UNIQUE (account_id, name)
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    packet_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    phone TEXT NOT NULL,
    sender TEXT NOT NULL,
    sender_orig TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    parts INTEGER NOT NULL,
    channel TEXT NOT NULL,
    price INTEGER NOT NULL,
    status INTEGER NOT NULL,
    error INTEGER NOT NULL DEFAULT 0,
    send_datetime INTEGER,
    ttl INTEGER,
    callback TEXT,
    callback_method TEXT,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    country TEXT NOT NULL DEFAULT '',
    operator TEXT NOT NULL DEFAULT '',
    test INTEGER NOT NULL DEFAULT 0,
    due_at INTEGER,
    lease_owner TEXT,
    lease_until INTEGER,
    connector TEXT,
    remote_id TEXT,
    outcome_status INTEGER,
    outcome_error INTEGER,
    outcome_at INTEGER
);
CREATE INDEX messages_account ON messages(account_id, id);
CREATE INDEX messages_packet ON messages(packet_id);
-- One small partial index per queue state, so the outbox's polls never scan history.
CREATE INDEX messages_scheduled ON messages(due_at) WHERE status = 3;
CREATE INDEX messages_queued ON messages(due_at, id) WHERE status = 0;
CREATE INDEX messages_outcome ON messages(outcome_at) WHERE status = 1;
CREATE TABLE inbound (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    phone TEXT NOT NULL,
    num TEXT NOT NULL,
    text TEXT NOT NULL,
    created INTEGER NOT NULL,
    fetched INTEGER NOT NULL DEFAULT 0,
    server_id INTEGER
);
CREATE INDEX inbound_account ON inbound(account_id, id);
