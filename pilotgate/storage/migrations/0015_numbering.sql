-- The numbering plan (issue 17): the Russian plan's ranges, the ported numbers, and a version
-- that every import bumps so each process reloads its in-memory snapshot. Both tables are
-- replaced whole by an import, in one transaction.
CREATE TABLE numbering_ranges (
    low {bigint} PRIMARY KEY,             -- international numbers, both bounds included
    high {bigint} NOT NULL,
    operator TEXT NOT NULL,               -- the brand (or the legal name when none is mapped)
    legal TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    inn TEXT NOT NULL DEFAULT '',
    mnc TEXT NOT NULL DEFAULT ''
);
-- In SQLite the number is the rowid: no second index for 2·10⁷ rows.
CREATE TABLE ported_numbers (
    number {bigint} PRIMARY KEY,
    operator TEXT NOT NULL,
    mnc TEXT NOT NULL DEFAULT ''
);
CREATE TABLE numbering_version (
    id {smallint} PRIMARY KEY,
    version {bigint} NOT NULL,
    changed_at {time}
);
INSERT INTO numbering_version (id, version) VALUES (1, 0);
-- A tariff row or a route may name the operator it is for (prefix + operator first, then
-- prefix alone): the operator joins their keys.
-- postgres:
ALTER TABLE tariff_rates DROP CONSTRAINT tariff_rates_pkey;
ALTER TABLE tariff_rates ADD PRIMARY KEY (tariff_id, prefix, channel, operator);
ALTER TABLE routes ADD COLUMN operator TEXT NOT NULL DEFAULT '';
ALTER TABLE routes DROP CONSTRAINT routes_pkey;
ALTER TABLE routes ADD PRIMARY KEY (prefix, channel, operator);
-- sqlite:
CREATE TABLE tariff_rates_new (
    tariff_id INTEGER NOT NULL REFERENCES tariffs(id),
    prefix TEXT NOT NULL,
    channel TEXT NOT NULL,
    price INTEGER NOT NULL CHECK (price >= 0),
    country TEXT NOT NULL DEFAULT '',
    operator TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tariff_id, prefix, channel, operator)
);
INSERT INTO tariff_rates_new SELECT tariff_id, prefix, channel, price, country, operator
    FROM tariff_rates;
DROP TABLE tariff_rates;
ALTER TABLE tariff_rates_new RENAME TO tariff_rates;
CREATE TABLE routes_new (
    prefix TEXT NOT NULL,
    channel TEXT NOT NULL,
    connectors TEXT NOT NULL,
    hlr_unreliable INTEGER NOT NULL DEFAULT 0,
    operator TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (prefix, channel, operator)
);
INSERT INTO routes_new SELECT prefix, channel, connectors, hlr_unreliable, '' FROM routes;
DROP TABLE routes;
ALTER TABLE routes_new RENAME TO routes;
-- end
