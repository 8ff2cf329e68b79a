-- Schema version 5: a report job is split into shards, ranges of stores that the workers
-- of every process claim (FOR UPDATE SKIP LOCKED, with a lease), compute and store; the
-- worker that stores the last one assembles the report.

-- One row per shard: its stores (first_store included, end_store left out, NULL: open;
-- compared byte-wise like store ids everywhere), its state (Pending, Running, Done), who
-- holds it until when, and once Done its report lines and the stores it left out (a
-- JSON array). A job's shards are deleted when the job ends.
CREATE TABLE report_shards (
    report_id text NOT NULL,
    number integer NOT NULL,
    first_store text COLLATE "C",
    end_store text COLLATE "C",
    status text NOT NULL,
    claimed_by text,
    lease_until timestamptz,
    lines text,
    skipped text,
    PRIMARY KEY (report_id, number)
);

-- The shards left to claim, by job.
CREATE INDEX report_shards_unfinished ON report_shards (report_id, number)
    WHERE status IN ('Pending', 'Running');

-- Every store with polls, kept by add_polls: planning a report's shards reads it in order
-- (a skip scan of polls costs one index probe per store, about 23 s for 1M stores).
CREATE TABLE stores (
    store_id text COLLATE "C" PRIMARY KEY
);
INSERT INTO stores (store_id) SELECT DISTINCT store_id FROM polls;
