-- PostgreSQL as the fast path (issue 14, docs/performance.md "The backends' share"): less
-- work per message row in the two tables every message writes at volume.
--
-- 1. The per-day statistics' deltas of status moves (0011_dashboard), PostgreSQL only: written
-- once per UPDATE statement for all the rows it moved, grouped by (account, day, status,
-- operator), instead of two rows per moved message. A hand-over round or a receipts flush
-- of 100 messages of one account and day now appends one or two delta rows, not 200: on
-- the SMPP end-to-end run the row trigger's inserts were ~4 per message
-- (docs/performance.md, "The backends' share").
--
-- A trigger with transition tables may not name columns, so it runs after every UPDATE of
-- `messages`; an UPDATE that moves nothing inserts nothing. It is declared on the partitioned
-- parent, which is what every statement names (0030); a statement-level trigger is not
-- cloned to partitions, so housekeeping's new partitions need nothing.
-- SQLite keeps its row trigger: it updates message_days in place, one writer at a time.
-- postgres:
CREATE FUNCTION messages_day_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Every updated row counts −1 at its old key and +1 at its new one: a row whose status
    -- and price did not change cancels out (no UPDATE changes account_id, created or
    -- operator), so only the moves the row trigger's WHEN kept are left, without a join.
    INSERT INTO message_day_deltas (account_id, day, status, operator, count, spend)
    SELECT account_id, day, status, operator, sum(count), sum(spend)
      FROM (SELECT account_id, floor(extract(epoch FROM created) / 86400)::integer AS day,
                   status, operator, -1 AS count, -price AS spend
              FROM moved_from
            UNION ALL
            SELECT account_id, floor(extract(epoch FROM created) / 86400)::integer, status,
                   operator, 1, price
              FROM moved_to) AS d
     GROUP BY 1, 2, 3, 4
    HAVING sum(count) <> 0 OR sum(spend) <> 0;
    RETURN NULL;
END $$;
-- online: a trigger replaced in one transaction under the migration's lock of `messages`;
-- older nodes' statements are unchanged, and so are the deltas they add up to
DROP TRIGGER messages_day_status ON messages;
CREATE TRIGGER messages_day_status AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS moved_from NEW TABLE AS moved_to
    FOR EACH STATEMENT EXECUTE FUNCTION messages_day_moves();
--
-- 2. No foreign key from `messages` and `callbacks` to `accounts` (PostgreSQL; SQLite keeps
-- its declarations). Each checked every inserted row with a locking read of the account
-- (FOR KEY SHARE): 5 µs a row, 50 ms of a 10,000-message packet's commit and three checks
-- per message end to end (one message, two callback jobs). Accounts are never deleted
-- (blocking is a state), a message's account is the one its submit debited in the same
-- transaction, and a callback job's is copied from its message or inbound SMS by the
-- triggers, so neither key could ever refuse a row.
-- online: the migration first locks every table its text names (REFERENCES accounts
-- included) for milliseconds; older nodes never relied on these keys
ALTER TABLE messages DROP CONSTRAINT messages_account_id_fkey;
-- online: as above
ALTER TABLE callbacks DROP CONSTRAINT callbacks_account_id_fkey;
--
-- 3. Room on each page of `callbacks` for a HOT claim (fillfactor 50). A job is claimed
-- (lease_owner, lease_until: no index names them) and then finished (done_at, in the
-- predicates of callbacks_due and callbacks_pending). Packed by their inserts, pages had no
-- room: 4 % of the claims were HOT, the others added an entry to each of the four indexes,
-- and every later claim walked those dead entries in callbacks_pending (57 read per message
-- on a loaded run). A partitioned parent takes no storage parameter: each partition gets it,
-- here the existing ones (their new pages), and housekeeping's new ones as it makes them
-- (storage/postgres/partitions.py).
DO $$
DECLARE
    part text;
BEGIN
    FOR part IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'callbacks'::regclass LOOP
        EXECUTE format('ALTER TABLE %I SET (fillfactor = 50)', part);
    END LOOP;
END $$;
-- end
