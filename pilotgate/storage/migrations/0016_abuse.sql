-- Abuse protection (issue 16).
-- Idempotent retries: a keyed submit claims (account_id, key) in its own transaction, so
-- of two racing repeats one stores its messages and the other finds the key taken. `key`
-- is the SHA-256 of the client's key; `answer` is NULL until the first answer is rendered.
CREATE TABLE idempotency_keys (
    account_id {bigint} NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created {time} NOT NULL,
    answer {blob},
    content_type TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created);

-- Per-account protections the operator sets; an account without a row has the defaults.
-- countries: ISO 3166 alpha-2 codes, comma-separated; NULL = the operator's default set.
-- stop_words: the content filter's words (247), one per line. cyrlat: the CyrLat filter (248).
-- day_cap, month_cap: messages per UTC day and month (223); NULL = the operator's default.
CREATE TABLE account_protections (
    account_id {bigint} PRIMARY KEY REFERENCES accounts(id),
    countries TEXT,
    stop_words TEXT NOT NULL DEFAULT '',
    cyrlat {bool} NOT NULL DEFAULT {false},
    day_cap {bigint},
    month_cap {bigint}
);

-- What each capped account has sent per UTC day and month (period 'day' or 'month' from
-- start), counted in the submit's own transaction: a submit that would pass a cap stores
-- nothing, whichever process takes it.
CREATE TABLE account_usage (
    account_id {bigint} NOT NULL,
    period TEXT NOT NULL,
    start {time} NOT NULL,
    count {bigint} NOT NULL,
    PRIMARY KEY (account_id, period, start)
);
CREATE INDEX account_usage_start ON account_usage(start);
