-- Frozen copy of the SQLite schema of version 2 (the first release's tables plus 0002_ingest_state.sql); never edit: it is what databases of that release look like.
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


-- Rows that were not stored, with the original line (nothing is silently dropped).
CREATE TABLE rejects (
    source TEXT NOT NULL,
    line INTEGER NOT NULL,
    "column" TEXT,  -- NULL when the row as a whole is wrong
    reason TEXT NOT NULL,
    text TEXT NOT NULL,
    ingested_at INTEGER NOT NULL
);

CREATE INDEX rejects_by_source ON rejects (source, line);

-- What the last ingest of each source saw, for incremental refresh.
CREATE TABLE source_state (
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    offset_bytes INTEGER NOT NULL,
    prefix_hash TEXT NOT NULL,
    lines INTEGER NOT NULL,
    mtime_ns INTEGER,
    etag TEXT,
    last_modified TEXT,
    ingested_at INTEGER NOT NULL,
    PRIMARY KEY (kind, source)
) WITHOUT ROWID;
