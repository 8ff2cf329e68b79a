-- Schema version 2: what ingestion keeps besides the data.

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
