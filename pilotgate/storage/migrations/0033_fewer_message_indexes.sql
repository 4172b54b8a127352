-- Two fewer indexes on `messages` (issue 14, docs/decisions.md "Two indexes on creation time
-- dropped"). Every insert added an entry to each, and so did every status move: a move
-- changes `status`, which the partial indexes' predicates name, so it is never a HOT update
-- and each new row version is entered in every index of the table (about four versions per
-- message on the SMPP path). Neither index was needed by a statement of this release:
--
-- * messages_loop (account_id, phone, created): loop protection's look-back now walks
--   messages_account_phone (account_id, phone, id) from an id bound found on the primary key
--   (sql/retention.py `first_id`, the binary search retention uses), keeping its `created`
--   condition;
-- * messages_account_created (account_id, created): the history's date bounds and API-1's
--   `hours` listing take the same id bound and walk messages_account (account_id, id).
--
-- Older nodes of a rolling upgrade still give their look-back and date bounds a `created`
-- condition alone: their answers stay right, those statements read more of the account's
-- rows until they are replaced. A partitioned index cannot be dropped CONCURRENTLY
-- (PostgreSQL refuses it): DROP INDEX takes the table's exclusive lock for the catalogue
-- change only, waiting at most the migration's lock timeout (docs/upgrades.md).
DROP INDEX IF EXISTS messages_loop;
DROP INDEX IF EXISTS messages_account_created;
