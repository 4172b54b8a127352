-- SMS-pumping defence (issue 16, item 3; domain/pumping.py).
-- Velocity counters: messages per (scope, key) in the window starting at `start`, grown in
-- the submit's own transaction so every process judges by the same counts. scope: "a<id>"
-- an account, "i<address>" an API source address; key: "r<digits>" a range, "p"
-- high-priced destinations, "n" countries new to the account, "t" all messages.
-- In SQLite WITHOUT ROWID: the key is the table, one B-tree written per row instead of two
-- (these rows are written by every send).
-- sqlite:
CREATE TABLE velocity_counts (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    start {time} NOT NULL,
    count {bigint} NOT NULL,
    PRIMARY KEY (scope, key, start)
) WITHOUT ROWID;
-- postgres:
CREATE TABLE velocity_counts (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    start {time} NOT NULL,
    count {bigint} NOT NULL,
    PRIMARY KEY (scope, key, start)
);
-- end
CREATE INDEX velocity_counts_start ON velocity_counts(start);

-- The numbers each scope sent to in a window: a range counts distinct numbers, so an OTP
-- asked for again (the same number) does not count twice.
-- sqlite:
CREATE TABLE velocity_numbers (
    scope TEXT NOT NULL,
    phone TEXT NOT NULL,
    start {time} NOT NULL,
    PRIMARY KEY (scope, phone, start)
) WITHOUT ROWID;
-- postgres:
CREATE TABLE velocity_numbers (
    scope TEXT NOT NULL,
    phone TEXT NOT NULL,
    start {time} NOT NULL,
    PRIMARY KEY (scope, phone, start)
);
-- end
CREATE INDEX velocity_numbers_start ON velocity_numbers(start);

-- The countries outside the home set each account has sent to, and since when: a country
-- is new to an account for `learning` seconds after its first message there.
CREATE TABLE account_countries (
    account_id {bigint} NOT NULL,
    country TEXT NOT NULL,
    first_seen {time} NOT NULL,
    PRIMARY KEY (account_id, country)
);
