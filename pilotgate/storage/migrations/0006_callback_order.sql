-- Callback jobs are claimed oldest first by id rather than by due time: the jobs at the head
-- of the due-time order were mostly ones waiting for an earlier job of the same message (in
-- flight), which every claim had to step over; in id order a message's jobs come one after
-- the other, so a claim skips at most the jobs in flight.
CREATE INDEX callbacks_pending ON callbacks(id) WHERE done_at IS NULL;
