-- Core schema: accounts, keys, ledger, tariffs, senders, messages (the outbox), inbound.
-- Times are timestamptz (UTC); money is integer kopecks (bigint).
CREATE TABLE tariffs (
    id bigint PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE tariff_rates (
    tariff_id bigint NOT NULL REFERENCES tariffs(id),
    prefix text NOT NULL,
    channel text NOT NULL,
    price bigint NOT NULL CHECK (price >= 0),
    country text NOT NULL DEFAULT '',
    operator text NOT NULL DEFAULT '',
    PRIMARY KEY (tariff_id, prefix, channel)
);
CREATE TABLE accounts (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    name text NOT NULL DEFAULT '',
    phone text NOT NULL DEFAULT '',
    tariff_id bigint NOT NULL REFERENCES tariffs(id),
    default_sender text NOT NULL DEFAULT '',
    any_sender boolean NOT NULL DEFAULT false,
    allow_ip text NOT NULL DEFAULT '',
    state text NOT NULL DEFAULT 'active',
    referrer_id bigint REFERENCES accounts(id),
    balance bigint NOT NULL DEFAULT 0 CHECK (balance >= 0),
    created timestamptz NOT NULL
);
CREATE TABLE api_keys (
    digest text PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts(id),
    created timestamptz NOT NULL
);
CREATE INDEX api_keys_account ON api_keys(account_id);
CREATE TABLE ledger (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts(id),
    amount bigint NOT NULL,
    kind text NOT NULL,
    ref bigint,
    note text NOT NULL DEFAULT '',
    created timestamptz NOT NULL
);
CREATE INDEX ledger_account ON ledger(account_id, id);
CREATE TABLE senders (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts(id),
    name text NOT NULL,
    state text NOT NULL,
    description text NOT NULL DEFAULT '',
    callback text NOT NULL DEFAULT '',
    created timestamptz NOT NULL,
    UNIQUE (account_id, name)
);
CREATE SEQUENCE message_ids START 10000;
CREATE TABLE messages (
    id bigint PRIMARY KEY,
    packet_id bigint NOT NULL,
    account_id bigint NOT NULL REFERENCES accounts(id),
    phone text NOT NULL,
    sender text NOT NULL,
    sender_orig text NOT NULL DEFAULT '',
    text text NOT NULL,
    parts integer NOT NULL,
    channel text NOT NULL,
    price bigint NOT NULL,
    status smallint NOT NULL,
    error integer NOT NULL DEFAULT 0,
    send_datetime timestamptz,
    ttl integer,
    callback text,
    callback_method text,
    created timestamptz NOT NULL,
    modified timestamptz NOT NULL,
    country text NOT NULL DEFAULT '',
    operator text NOT NULL DEFAULT '',
    test boolean NOT NULL DEFAULT false,
    due_at timestamptz,
    lease_owner text,
    lease_until timestamptz,
    connector text,
    remote_id text,
    outcome_status smallint,
    outcome_error integer,
    outcome_at timestamptz
);
CREATE INDEX messages_account ON messages(account_id, id);
CREATE INDEX messages_packet ON messages(packet_id);
-- One small partial index per queue state, so the outbox's polls never scan history.
CREATE INDEX messages_scheduled ON messages(due_at) WHERE status = 3;
CREATE INDEX messages_queued ON messages(due_at, id) WHERE status = 0;
CREATE INDEX messages_outcome ON messages(outcome_at) WHERE status = 1;
CREATE TABLE inbound (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts(id),
    phone text NOT NULL,
    num text NOT NULL,
    text text NOT NULL,
    created timestamptz NOT NULL,
    fetched boolean NOT NULL DEFAULT false,
    server_id bigint
);
CREATE INDEX inbound_account ON inbound(account_id, id);
