-- Stop lists, loop protection and referrals (contract §5.4, §14).
-- A phone on a stop list gets error 212 at send time. account_id 0 is the global list.
CREATE TABLE stop_list (
    account_id {bigint} NOT NULL,
    phone TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created {time} NOT NULL,
    PRIMARY KEY (account_id, phone)
);
-- Loop protection (243): the account's window in seconds; NULL = the gateway's default.
ALTER TABLE accounts ADD COLUMN loop_window INTEGER;
-- The referrer's share in percent, fixed when the referral is recorded.
ALTER TABLE accounts ADD COLUMN referral_percent INTEGER NOT NULL DEFAULT 0;
-- Loop protection looks for the same phone's recent messages of one account.
CREATE INDEX messages_loop ON messages(account_id, phone, created);
-- Commission: every charge of a referred account ("send" ledger row) credits its referrer
-- the share, rounded down, in the same transaction; a refund takes the share of it back, at
-- most what the referrer still has (a balance never goes below zero). Written by the
-- database so every path that charges or refunds (API-1, API-2, links) pays it, atomically.
-- SQLite computes the share in SQL; PostgreSQL's function locks the referrer's row first.
-- sqlite:
CREATE TRIGGER ledger_referral AFTER INSERT ON ledger
WHEN NEW.kind IN ('send', 'refund') AND NEW.amount <> 0
BEGIN
    INSERT INTO ledger (account_id, amount, kind, ref, note, created)
    SELECT a.referrer_id,
           CASE WHEN NEW.amount < 0 THEN (-NEW.amount * a.referral_percent) / 100
                ELSE -MIN((NEW.amount * a.referral_percent) / 100, r.balance) END AS share,
           'referral', NEW.account_id, 'commission ' || NEW.kind || ' ' || NEW.id, NEW.created
      FROM accounts a JOIN accounts r ON r.id = a.referrer_id
     WHERE a.id = NEW.account_id AND a.referral_percent > 0
       AND (CASE WHEN NEW.amount < 0 THEN (-NEW.amount * a.referral_percent) / 100
                 ELSE MIN((NEW.amount * a.referral_percent) / 100, r.balance) END) > 0;
    UPDATE accounts SET balance = balance + (
        SELECT l.amount FROM ledger l
         WHERE l.id = (SELECT MAX(id) FROM ledger) AND l.kind = 'referral'
           AND l.ref = NEW.account_id)
     WHERE id = (SELECT referrer_id FROM accounts WHERE id = NEW.account_id)
       AND EXISTS (SELECT 1 FROM ledger l
                    WHERE l.id = (SELECT MAX(id) FROM ledger) AND l.kind = 'referral'
                      AND l.ref = NEW.account_id);
END;
-- postgres:
CREATE FUNCTION ledger_referral() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    referrer bigint;
    percent integer;
    have bigint;
    share bigint;
BEGIN
    SELECT referrer_id, referral_percent INTO referrer, percent
      FROM accounts WHERE id = NEW.account_id;
    IF referrer IS NULL OR percent <= 0 THEN
        RETURN NULL;
    END IF;
    IF NEW.amount < 0 THEN
        share := (-NEW.amount * percent) / 100;
    ELSE
        SELECT balance INTO have FROM accounts WHERE id = referrer FOR UPDATE;
        share := -LEAST((NEW.amount * percent) / 100, have);
    END IF;
    IF share <> 0 THEN
        UPDATE accounts SET balance = balance + share WHERE id = referrer;
        INSERT INTO ledger (account_id, amount, kind, ref, note, created)
        VALUES (referrer, share, 'referral', NEW.account_id,
                'commission ' || NEW.kind || ' ' || NEW.id, NEW.created);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER ledger_referral AFTER INSERT ON ledger
    FOR EACH ROW WHEN (NEW.kind IN ('send', 'refund') AND NEW.amount <> 0)
    EXECUTE FUNCTION ledger_referral();
-- end
