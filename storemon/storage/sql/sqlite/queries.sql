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

-- name: store_ids
-- Every store with polls, in order, by one primary-key seek per store (a skip scan).
WITH RECURSIVE stores (store_id) AS (
    SELECT min(store_id) FROM polls
    UNION ALL
    SELECT (SELECT min(p.store_id) FROM polls AS p WHERE p.store_id > stores.store_id)
    FROM stores WHERE stores.store_id IS NOT NULL
)
SELECT store_id FROM stores WHERE store_id IS NOT NULL;

-- name: snapshot_changes
-- snapshot_polls for the stores :first to :last (inclusive) as ONE string, so that SQLite
-- builds it in one step without the GIL while Python works on the previous one. Per store:
-- "<length of id>:<length of times>:<length of statuses>:<id><times><statuses>", where
-- times writes every instant as at_us + 10^18 (19 digits for any instant from 1970 to
-- 2255, so no separators) and statuses is one character per poll. Both aggregates read
-- the primary key in order (no temporary B-tree: a test checks the plan), so both strings
-- are in time order; Python then parses only the polls next to a change of status.
SELECT group_concat(
    length(store_id) || ':' || length(times) || ':' || length(statuses) || ':'
    || store_id || times || statuses,
    ''
)
FROM (
    SELECT store_id, group_concat(at_us + 1000000000000000000, '') AS times,
           group_concat(active, '') AS statuses
    FROM polls AS p
    WHERE store_id BETWEEN :first AND :last
      AND at_us <= :as_of
      AND (
        at_us >= :since
        OR at_us = (
          SELECT max(q.at_us) FROM polls AS q WHERE q.store_id = p.store_id AND q.at_us < :since
        )
      )
    GROUP BY store_id
);

-- name: snapshot_hours
SELECT store_id, day, start_us, end_us FROM hours ORDER BY store_id;

-- name: snapshot_zones
SELECT store_id, zone_key FROM zones ORDER BY store_id;

-- name: delete_hours
DELETE FROM hours;

-- name: insert_hours
INSERT OR IGNORE INTO hours (store_id, day, start_us, end_us) VALUES (?, ?, ?, ?);

-- name: create_hours_stage
-- A new business-hours file, staged (in memory: temp_store) to be counted and merged in SQL.
CREATE TEMP TABLE IF NOT EXISTS stage_hours (
    store_id TEXT NOT NULL, day INTEGER NOT NULL, start_us INTEGER NOT NULL, end_us INTEGER NOT NULL
);

-- name: stage_hours
INSERT INTO temp.stage_hours (store_id, day, start_us, end_us) VALUES (?, ?, ?, ?);

-- name: count_new_hours
-- Staged rows (each repeat counted) that the hours table does not hold yet.
SELECT count(*) FROM temp.stage_hours AS s
WHERE NOT EXISTS (
    SELECT 1 FROM hours AS h
    WHERE h.store_id = s.store_id AND h.day = s.day AND h.start_us = s.start_us
      AND h.end_us = s.end_us
);

-- name: merge_hours_stage
INSERT OR IGNORE INTO hours (store_id, day, start_us, end_us)
SELECT store_id, day, start_us, end_us FROM temp.stage_hours;

-- name: clear_hours_stage
DELETE FROM temp.stage_hours;

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
