-- Retention by partitions dropped whole (docs/retention.md), PostgreSQL only: `messages`,
-- `callbacks` and `ledger` become tables partitioned by RANGE on their id. Ids grow with
-- time, so a range of ids is a range of time, and the primary key stays `id`: every lookup,
-- and every statement of an older node still serving (docs/upgrades.md), reads and writes
-- the partitioned table as it did the plain one.
--
-- No row is rewritten: each table is renamed `<table>_p0`, a partitioned parent takes the
-- old name with the same columns, defaults, indexes, constraints and triggers (the old
-- indexes are attached, not rebuilt), and the old table becomes its first partition, every
-- id below the sequence's next value. A DEFAULT partition takes any id no range holds, so an
-- insert never fails; the partitions ahead are made by each housekeeping round
-- (storage/postgres/partitions.py), the first one here.
--
-- `message_parts` is not partitioned: its key (connector, remote_id) must stay unique across
-- all messages (an SMSC's id reused moves to the new message, ON CONFLICT in sql/links.py),
-- and a partitioned table's unique keys must hold the partition key.
-- postgres:
-- Every lock first, in the order sends take them (an account's row, then its messages):
-- the foreign keys the parents get lock `accounts` against writes (reads go on), and a lock
-- taken later in the transaction could deadlock with a send (docs/upgrades.md).
LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE;
LOCK TABLE messages, callbacks, ledger IN ACCESS EXCLUSIVE MODE;
-- online: each table is renamed and, in the same transaction, a partitioned table with its
-- columns takes its name, so older nodes' statements find `messages` as before; constraints
-- go on the empty parent (nothing to check) and the old table's are attached; the attach
-- reads the old table's ids once (bench/retention_drop.py --migration).
DO $$
DECLARE
    whole text;
    seq text;
    bound bigint;
    defs text[];
    def text;
    found record;
BEGIN
    FOREACH whole IN ARRAY ARRAY['messages', 'callbacks', 'ledger'] LOOP
        -- Every id taken so far is below the bound: the table is locked, and an id taken
        -- before (an older node's nextval, inserted later) is lower still.
        seq := COALESCE(pg_get_serial_sequence(whole, 'id'), 'message_ids');
        EXECUTE format(
            'SELECT GREATEST((SELECT last_value + 1 FROM %s), '
            '(SELECT COALESCE(max(id), 0) + 1 FROM %I))', seq, whole) INTO bound;
        -- The definitions as written for the name `whole`, which the parent takes below.
        defs := ARRAY(
            SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
             WHERE i.indrelid = whole::regclass
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ) || ARRAY(
            SELECT format('ALTER TABLE %I ADD CONSTRAINT %I %s', whole, conname,
                          pg_get_constraintdef(oid))
              FROM pg_constraint WHERE conrelid = whole::regclass AND contype IN ('p', 'u', 'f')
        ) || ARRAY(
            SELECT pg_get_triggerdef(oid) FROM pg_trigger
             WHERE tgrelid = whole::regclass AND NOT tgisinternal
        );
        -- Triggers move to the parent (which gives each partition its copy).
        FOR found IN SELECT tgname FROM pg_trigger
                      WHERE tgrelid = whole::regclass AND NOT tgisinternal LOOP
            EXECUTE format('DROP TRIGGER %I ON %I', found.tgname, whole);
        END LOOP;
        -- The old indexes keep their pages under new names; the parent's take the old ones.
        FOR found IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                      WHERE i.indrelid = whole::regclass LOOP
            EXECUTE format('ALTER INDEX %I RENAME TO %I', found.relname, found.relname || '_p0');
        END LOOP;
        EXECUTE format('ALTER TABLE %I RENAME TO %I', whole, whole || '_p0');
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS) '
                       'PARTITION BY RANGE (id)', whole, whole || '_p0');
        FOREACH def IN ARRAY defs LOOP
            EXECUTE def;
        END LOOP;
        -- A sequence owned by the old table would leave with it when its partition is dropped.
        IF seq <> 'message_ids' THEN
            EXECUTE format('ALTER SEQUENCE %s OWNED BY %I.id', seq, whole);
        END IF;
        -- Matching indexes and foreign keys are attached, not built or checked again; the
        -- partition bound is checked by one read of the old table's ids.
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%s)',
                       whole, whole || '_p0', bound);
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
                       whole || '_p' || bound, whole, bound, bound + 10000000);
        EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', whole || '_default', whole);
    END LOOP;
END $$;
-- end
