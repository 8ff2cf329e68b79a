-- Schema version 3: each report keeps its row count for the list of reports.

-- Rows of a complete report, the header not counted: listing reports never reads a CSV.
ALTER TABLE reports ADD COLUMN row_count bigint;
UPDATE reports
SET row_count = greatest(length(csv) - length(replace(csv, chr(10), '')) - 1, 0)
WHERE status = 'Complete' AND csv IS NOT NULL;
