-- Schema version 2: several server processes share the report jobs and the refresh.

-- The process holding a Running job, and until when; another process takes the job
-- over once the lease has run out (its holder died or stalled).
ALTER TABLE reports ADD COLUMN claimed_by text;
ALTER TABLE reports ADD COLUMN lease_until timestamptz;

-- The queue: jobs waiting or running, oldest first.
CREATE INDEX reports_unfinished ON reports (created_at, report_id)
    WHERE status IN ('Pending', 'Running');

-- When each shared periodic task last ran ('refresh': the ingestion of the sources).
CREATE TABLE schedule (
    name text PRIMARY KEY,
    last_at timestamptz NOT NULL
);
