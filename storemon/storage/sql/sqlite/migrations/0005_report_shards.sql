-- Schema version 5: a report job is split into shards, ranges of stores that the workers
-- of every process claim, compute and store; the worker that stores the last one
-- assembles the report.

-- One row per shard: its stores (first_store included, end_store left out, NULL: open),
-- its state (Pending, Running, Done), who holds it until when (microseconds since the
-- epoch), and once Done its report lines and the stores it left out (a JSON array).
-- A job's shards are deleted when the job ends.
CREATE TABLE report_shards (
    report_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    first_store TEXT,
    end_store TEXT,
    status TEXT NOT NULL,
    claimed_by TEXT,
    lease_until INTEGER,
    lines TEXT,
    skipped TEXT,
    PRIMARY KEY (report_id, number)
);

-- The shards left to claim, by job.
CREATE INDEX report_shards_unfinished ON report_shards (report_id, number)
    WHERE status IN ('Pending', 'Running');
