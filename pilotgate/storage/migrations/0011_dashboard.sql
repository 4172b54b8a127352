-- The web dashboard: console operators, failed logins (lockout), the secret that signs
-- session cookies, indexes for the history's filters, and per-day statistics.
CREATE TABLE operators (
    id {serial} PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created {time} NOT NULL
);
-- An operator's reason for rejecting a sender name (sent with the verdict's callback).
ALTER TABLE senders ADD COLUMN reason TEXT NOT NULL DEFAULT '';
CREATE TABLE login_failures (
    who TEXT NOT NULL,               -- 'c:' or 'o:' + e-mail + '|' + client address
    at {time} NOT NULL
);
CREATE INDEX login_failures_who ON login_failures(who, at);
CREATE TABLE dashboard_secret (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret TEXT NOT NULL
);
-- History pages are keyset-paged on id within an account; these keep the phone and status
-- filters and the date bounds (turned into id bounds) index walks at any table size.
CREATE INDEX messages_account_phone ON messages(account_id, phone, id);
CREATE INDEX messages_account_status ON messages(account_id, status, id);
CREATE INDEX messages_account_created ON messages(account_id, created);
-- Statistics: one row per account, UTC day of creation, current status and operator.
-- SQLite has one writer at a time, so counters are updated in place: by `submit` (one upsert
-- per group of a batch: a trigger on INSERT cost a 10,000-message submit five times its
-- time) and by the trigger below on every status change.
-- In PostgreSQL, counters updated in place by concurrent transactions would serialise every
-- status change of an account on a few hot rows (and batches locking them in different
-- orders deadlock), so `submit` (one row per group of a batch) and the status trigger only
-- append deltas; `daily_stats` folds them into message_days (in key order, rows taken with
-- SKIP LOCKED) and adds the ones not folded yet.
CREATE TABLE message_days (
    account_id {bigint} NOT NULL,
    day INTEGER NOT NULL,            -- days since 1970-01-01 (UTC) of messages.created
    status {smallint} NOT NULL,
    operator TEXT NOT NULL,
    count {bigint} NOT NULL,
    spend {bigint} NOT NULL,         -- kopecks
    PRIMARY KEY (account_id, day, status, operator)
);
-- sqlite:
INSERT INTO message_days (account_id, day, status, operator, count, spend)
SELECT account_id, created / 86400000000, status, operator, count(*), sum(price)
  FROM messages GROUP BY 1, 2, 3, 4;
-- Also when only the price changes: a VIBERSMS message refused by Viber becomes an SMS at
-- the SMS price and stays accepted (0010, domain/hybrid.py).
CREATE TRIGGER messages_day_status AFTER UPDATE OF status, price ON messages
WHEN NEW.status <> OLD.status OR NEW.price <> OLD.price
BEGIN
    UPDATE message_days SET count = count - 1, spend = spend - OLD.price
     WHERE account_id = OLD.account_id AND day = OLD.created / 86400000000
       AND status = OLD.status AND operator = OLD.operator;
    INSERT INTO message_days (account_id, day, status, operator, count, spend)
    VALUES (NEW.account_id, NEW.created / 86400000000, NEW.status, NEW.operator, 1, NEW.price)
    ON CONFLICT (account_id, day, status, operator)
    DO UPDATE SET count = count + 1, spend = spend + excluded.spend;
END;
-- postgres:
CREATE TABLE message_day_deltas (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL,
    day integer NOT NULL,
    status smallint NOT NULL,
    operator text NOT NULL,
    count integer NOT NULL,
    spend bigint NOT NULL
);
CREATE INDEX message_day_deltas_account ON message_day_deltas(account_id, day);
INSERT INTO message_days (account_id, day, status, operator, count, spend)
SELECT account_id, floor(extract(epoch FROM created) / 86400)::integer, status, operator, count(*),
       sum(price)
  FROM messages GROUP BY 1, 2, 3, 4;
CREATE FUNCTION messages_day_delta() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO message_day_deltas (account_id, day, status, operator, count, spend)
    VALUES (OLD.account_id, floor(extract(epoch FROM OLD.created) / 86400)::integer,
            OLD.status, OLD.operator, -1, -OLD.price);
    INSERT INTO message_day_deltas (account_id, day, status, operator, count, spend)
    VALUES (NEW.account_id, floor(extract(epoch FROM NEW.created) / 86400)::integer,
            NEW.status, NEW.operator, 1, NEW.price);
    RETURN NULL;
END $$;
-- Also when only the price changes: a VIBERSMS message refused by Viber becomes an SMS at
-- the SMS price and stays accepted (0010, domain/hybrid.py).
CREATE TRIGGER messages_day_status AFTER UPDATE OF status, price ON messages
    FOR EACH ROW WHEN (NEW.status <> OLD.status OR NEW.price <> OLD.price)
    EXECUTE FUNCTION messages_day_delta();
-- end
