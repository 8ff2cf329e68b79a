-- Frozen copy of the first released SQLite schema (version 1); never edit: it is what old databases look like.
-- Instants are integers: microseconds since the Unix epoch, UTC.

CREATE TABLE polls (
    store_id TEXT NOT NULL,
    at_us INTEGER NOT NULL,
    active INTEGER NOT NULL,  -- 1 active, 0 inactive
    PRIMARY KEY (store_id, at_us)
) WITHOUT ROWID;

-- A business-hours row; times are microseconds after local midnight, and an end of
-- 86400000000 is an end written 24:00:00.
CREATE TABLE hours (
    store_id TEXT NOT NULL,
    day INTEGER NOT NULL,  -- 0 = Monday ... 6 = Sunday
    start_us INTEGER NOT NULL,
    end_us INTEGER NOT NULL,
    PRIMARY KEY (store_id, day, start_us, end_us)
) WITHOUT ROWID;

CREATE TABLE zones (
    store_id TEXT NOT NULL PRIMARY KEY,
    zone_key TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE reports (
    report_id TEXT NOT NULL PRIMARY KEY,
    status TEXT NOT NULL,  -- Pending, Running, Complete, Failed
    as_of INTEGER,
    created_at INTEGER NOT NULL,
    finished_at INTEGER,
    csv TEXT,
    error TEXT
);

CREATE INDEX reports_by_created_at ON reports (created_at);
