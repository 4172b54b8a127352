-- The web dashboard: console operators, failed logins (lockout), the secret that signs
-- session cookies, indexes for the history's filters, and per-day statistics.
CREATE TABLE operators (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created INTEGER NOT NULL
);
-- An operator's reason for rejecting a sender name (sent with the verdict's callback).
ALTER TABLE senders ADD COLUMN reason TEXT NOT NULL DEFAULT '';
CREATE TABLE login_failures (
    who TEXT NOT NULL,               -- 'c:' or 'o:' + e-mail + '|' + client address
    at INTEGER NOT NULL
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
-- Statistics: one row per account, UTC day of creation, current status and operator. SQLite
-- has one writer at a time, so counters are updated in place: by `submit` (one upsert per
-- group of a batch: a trigger on INSERT cost a 10,000-message submit five times its time)
-- and by the trigger below on every status change.
CREATE TABLE message_days (
    account_id INTEGER NOT NULL,
    day INTEGER NOT NULL,            -- days since 1970-01-01 (UTC) of messages.created
    status INTEGER NOT NULL,
    operator TEXT NOT NULL,
    count INTEGER NOT NULL,
    spend INTEGER NOT NULL,          -- kopecks
    PRIMARY KEY (account_id, day, status, operator)
);
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
