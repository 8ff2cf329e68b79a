-- Named queries of the SQLite backend: each block starts with "-- name: NAME".

-- name: upsert_poll
-- A later row for an instant replaces the status; the same row again changes nothing
-- (and is not counted by changes()).
INSERT INTO polls (store_id, at_us, active) VALUES (?, ?, ?)
ON CONFLICT (store_id, at_us) DO UPDATE SET active = excluded.active
WHERE polls.active IS NOT excluded.active;

-- name: latest_poll
SELECT max(at_us) FROM polls;

-- name: snapshot_polls
-- One pass in store order (the primary key's order): the polls in [since, as_of] and the
-- latest poll before since, which decides the status at the start of the week.
SELECT store_id, at_us, active
FROM polls AS p
WHERE at_us <= :as_of
  AND (
    at_us >= :since
    OR at_us = (
      SELECT max(q.at_us) FROM polls AS q WHERE q.store_id = p.store_id AND q.at_us < :since
    )
  )
ORDER BY store_id, at_us;

-- name: snapshot_changes
-- snapshot_polls as one row per store: every instant written as at_us + 10^18 (19 digits
-- for any instant from 1970 to 2255, so the string needs no separators), and the statuses
-- as one character each. The GROUP BY is answered by scanning the primary key in order
-- (no temporary B-tree, checked by a test on the query plan), so both strings are in time
-- order; Python then parses only the polls next to a change of status.
SELECT store_id, group_concat(at_us + 1000000000000000000, ''), group_concat(active, '')
FROM polls AS p
WHERE at_us <= :as_of
  AND (
    at_us >= :since
    OR at_us = (
      SELECT max(q.at_us) FROM polls AS q WHERE q.store_id = p.store_id AND q.at_us < :since
    )
  )
GROUP BY store_id;

-- name: snapshot_hours
SELECT store_id, day, start_us, end_us FROM hours ORDER BY store_id;

-- name: snapshot_zones
SELECT store_id, zone_key FROM zones ORDER BY store_id;

-- name: delete_hours
DELETE FROM hours;

-- name: insert_hours
INSERT OR IGNORE INTO hours (store_id, day, start_us, end_us) VALUES (?, ?, ?, ?);

-- name: delete_zones
DELETE FROM zones;

-- name: insert_zone
INSERT OR REPLACE INTO zones (store_id, zone_key) VALUES (?, ?);

-- name: get_source_state
SELECT kind, source, size, content_hash, offset_bytes, prefix_hash, lines, ingested_at,
       mtime_ns, etag, last_modified
FROM source_state WHERE kind = ? AND source = ?;

-- name: save_source_state
INSERT OR REPLACE INTO source_state (
    kind, source, size, content_hash, offset_bytes, prefix_hash, lines, ingested_at,
    mtime_ns, etag, last_modified
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: insert_reject
INSERT INTO rejects (source, line, "column", reason, text, ingested_at) VALUES (?, ?, ?, ?, ?, ?);

-- name: clear_rejects
DELETE FROM rejects WHERE source = ?;

-- name: all_rejects
SELECT source, line, "column", reason, text FROM rejects ORDER BY source, line;

-- name: source_rejects
SELECT source, line, "column", reason, text FROM rejects WHERE source = ? ORDER BY line;

-- name: create_report
INSERT INTO reports (report_id, status, as_of, created_at) VALUES (?, ?, ?, ?);

-- name: start_report
UPDATE reports SET status = ? WHERE report_id = ?;

-- name: finish_report
UPDATE reports SET status = ?, csv = ?, finished_at = ? WHERE report_id = ?;

-- name: fail_report
UPDATE reports SET status = ?, error = ?, finished_at = ? WHERE report_id = ?;

-- name: get_report
SELECT report_id, status, as_of, created_at, finished_at, csv, error
FROM reports WHERE report_id = ?;

-- name: unfinished_reports
SELECT report_id, status, as_of, created_at, finished_at, csv, error
FROM reports WHERE status IN (?, ?) ORDER BY created_at, report_id;

-- name: store_polls
-- One store's polls in [since, as_of] and its latest poll before since (primary-key range).
SELECT at_us, active
FROM polls
WHERE store_id = :store_id
  AND at_us <= :as_of
  AND (
    at_us >= :since
    OR at_us = (
      SELECT max(at_us) FROM polls WHERE store_id = :store_id AND at_us < :since
    )
  )
ORDER BY at_us;

-- name: store_hours
SELECT day, start_us, end_us FROM hours WHERE store_id = ?;

-- name: store_zone
SELECT zone_key FROM zones WHERE store_id = ?;
