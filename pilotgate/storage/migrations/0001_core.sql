-- Core schema: accounts, keys, ledger, tariffs, senders, messages (the outbox), inbound.
-- Times are {time}: unix microseconds (UTC) in SQLite, timestamptz in PostgreSQL; money is
-- integer kopecks.
CREATE TABLE tariffs (
    id {bigint} PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE tariff_rates (
    tariff_id {bigint} NOT NULL REFERENCES tariffs(id),
    prefix TEXT NOT NULL,
    channel TEXT NOT NULL,
    price {bigint} NOT NULL CHECK (price >= 0),
    country TEXT NOT NULL DEFAULT '',
    operator TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tariff_id, prefix, channel)
);
CREATE TABLE accounts (
    id {serial} PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    tariff_id {bigint} NOT NULL REFERENCES tariffs(id),
    default_sender TEXT NOT NULL DEFAULT '',
    any_sender {bool} NOT NULL DEFAULT {false},
    allow_ip TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'active',
    referrer_id {bigint} REFERENCES accounts(id),
    balance {bigint} NOT NULL DEFAULT 0 CHECK (balance >= 0),
    created {time} NOT NULL
);
CREATE TABLE api_keys (
    digest TEXT PRIMARY KEY,
    account_id {bigint} NOT NULL REFERENCES accounts(id),
    created {time} NOT NULL
);
CREATE INDEX api_keys_account ON api_keys(account_id);
CREATE TABLE ledger (
    id {serial} PRIMARY KEY,
    account_id {bigint} NOT NULL REFERENCES accounts(id),
    amount {bigint} NOT NULL,
    kind TEXT NOT NULL,
    ref {bigint},
    note TEXT NOT NULL DEFAULT '',
    created {time} NOT NULL
);
CREATE INDEX ledger_account ON ledger(account_id, id);
CREATE TABLE senders (
    id {serial} PRIMARY KEY,
    account_id {bigint} NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    callback TEXT NOT NULL DEFAULT '',
    created {time} NOT NULL,
    UNIQUE (account_id, name)
);
-- PostgreSQL draws message ids (server_id) from a sequence of their own.
-- postgres:
CREATE SEQUENCE message_ids START 10000;
-- end
CREATE TABLE messages (
    id {bigint} PRIMARY KEY,
    packet_id {bigint} NOT NULL,
    account_id {bigint} NOT NULL REFERENCES accounts(id),
    phone TEXT NOT NULL,
    sender TEXT NOT NULL,
    sender_orig TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    parts INTEGER NOT NULL,
    channel TEXT NOT NULL,
    price {bigint} NOT NULL,
    status {smallint} NOT NULL,
    error INTEGER NOT NULL DEFAULT 0,
    send_datetime {time},
    ttl INTEGER,
    callback TEXT,
    callback_method TEXT,
    created {time} NOT NULL,
    modified {time} NOT NULL,
    country TEXT NOT NULL DEFAULT '',
    operator TEXT NOT NULL DEFAULT '',
    test {bool} NOT NULL DEFAULT {false},
    due_at {time},
    lease_owner TEXT,
    lease_until {time},
    connector TEXT,
    remote_id TEXT,
    outcome_status {smallint},
    outcome_error INTEGER,
    outcome_at {time}
);
CREATE INDEX messages_account ON messages(account_id, id);
CREATE INDEX messages_packet ON messages(packet_id);
-- One small partial index per queue state, so the outbox's polls never scan history.
CREATE INDEX messages_scheduled ON messages(due_at) WHERE status = 3;
CREATE INDEX messages_queued ON messages(due_at, id) WHERE status = 0;
CREATE INDEX messages_outcome ON messages(outcome_at) WHERE status = 1;
CREATE TABLE inbound (
    id {serial} PRIMARY KEY,
    account_id {bigint} NOT NULL REFERENCES accounts(id),
    phone TEXT NOT NULL,
    num TEXT NOT NULL,
    text TEXT NOT NULL,
    created {time} NOT NULL,
    fetched {bool} NOT NULL DEFAULT {false},
    server_id {bigint}
);
CREATE INDEX inbound_account ON inbound(account_id, id);
