-- Schema version 3: the report queue lives in the database (as on PostgreSQL), and each
-- report keeps its row count for the list of reports.

-- The process holding a Running job, and until when (microseconds since the epoch);
-- another worker takes the job over once the lease has run out.
ALTER TABLE reports ADD COLUMN claimed_by TEXT;
ALTER TABLE reports ADD COLUMN lease_until INTEGER;

-- Rows of a complete report, the header not counted: listing reports never reads a CSV.
ALTER TABLE reports ADD COLUMN row_count INTEGER;
UPDATE reports SET row_count = max(length(csv) - length(replace(csv, char(10), '')) - 1, 0)
WHERE status = 'Complete' AND csv IS NOT NULL;

-- The queue: jobs waiting or running, oldest first (the rowid after created_at breaks
-- ties in trigger order).
CREATE INDEX reports_unfinished ON reports (created_at) WHERE status IN ('Pending', 'Running');

-- The list of reports reads this index alone: the columns a row stores after its CSV
-- can only be reached through the CSV's overflow pages.
CREATE INDEX reports_listed ON reports (created_at, report_id, status, as_of, finished_at, row_count);

-- When each shared periodic task last ran ('refresh': the ingestion of the sources), in
-- microseconds since the epoch.
CREATE TABLE schedule (
    name TEXT NOT NULL PRIMARY KEY,
    last_at INTEGER NOT NULL
) WITHOUT ROWID;
