-- Schema version 1: the tables of SQLite's versions 1 and 2, in PostgreSQL types.
-- Instants are bigints: microseconds since the Unix epoch, UTC (as in SQLite), so that
-- both backends store and compare the same integers. Store ids compare byte-wise
-- (COLLATE "C"): they are digits or UUIDs, and a locale's collation makes every
-- comparison in the primary keys several times dearer.

CREATE TABLE polls (
    store_id text COLLATE "C" NOT NULL,
    at_us bigint NOT NULL,
    active boolean NOT NULL,
    PRIMARY KEY (store_id, at_us)
);

-- Times are microseconds after local midnight; an end of 86400000000 is 24:00:00.
CREATE TABLE hours (
    store_id text COLLATE "C" NOT NULL,
    day smallint NOT NULL,  -- 0 = Monday ... 6 = Sunday
    start_us bigint NOT NULL,
    end_us bigint NOT NULL,
    PRIMARY KEY (store_id, day, start_us, end_us)
);

CREATE TABLE zones (
    store_id text COLLATE "C" PRIMARY KEY,
    zone_key text NOT NULL
);

CREATE TABLE reports (
    report_id text PRIMARY KEY,
    status text NOT NULL,  -- Pending, Running, Complete, Failed
    as_of bigint,
    created_at bigint NOT NULL,
    finished_at bigint,
    csv text,
    error text
);

CREATE INDEX reports_by_created_at ON reports (created_at);

CREATE TABLE rejects (
    source text NOT NULL,
    line bigint NOT NULL,
    "column" text,
    reason text NOT NULL,
    text text NOT NULL,
    ingested_at bigint NOT NULL
);

CREATE INDEX rejects_by_source ON rejects (source, line);

CREATE TABLE source_state (
    kind text NOT NULL,
    source text NOT NULL,
    size bigint NOT NULL,
    content_hash text NOT NULL,
    offset_bytes bigint NOT NULL,
    prefix_hash text NOT NULL,
    lines bigint NOT NULL,
    mtime_ns bigint,
    etag text,
    last_modified text,
    ingested_at bigint NOT NULL,
    PRIMARY KEY (kind, source)
);
