-- Named queries of the SQLite backend: each block starts with "-- name: NAME".

-- name: create_poll_stage
-- The polls of one stage (stage_polls), a row per store and flush of the stage's buffer
-- (a "piece": storemon.storage.polldays.PollBuffer.drain_stores), in a temporary table
-- of the writer connection named after the stage ({table}: stage_polls_ and the stage's
-- number, the only text ever put into this backend's SQL). Written outside any
-- transaction on the main database, it takes none of its locks. A row per store, not
-- per store and day: a file in no order over many weeks would make each flush a
-- million rows of a few polls.
-- day: the UTC day of all the row's polls (NULL when they span days); first_us and
-- last_us: its first and last instants; appended: set by mark_poll_appends.
CREATE TEMP TABLE {table} (
    store_id TEXT NOT NULL,
    piece INTEGER NOT NULL,
    times TEXT NOT NULL,
    statuses TEXT NOT NULL,
    distinct_times INTEGER NOT NULL,
    day INTEGER,
    first_us INTEGER NOT NULL,
    last_us INTEGER NOT NULL,
    appended INTEGER NOT NULL DEFAULT 0
);

-- name: stage_poll_store
INSERT INTO temp.{table}
    (store_id, piece, times, statuses, distinct_times, day, first_us, last_us)
VALUES (?, ?, ?, ?, ?, ?, ?, ?);

-- name: count_poll_stage
SELECT count(*) FROM temp.{table};

-- name: mark_poll_appends
-- Of a stage of one piece (a row per store), the rows SQL merges as they are, those of
-- distinct instants all of one day: appended = 1 when they come after the day's last
-- stored poll and the stored row is well formed (storemon.storage.polldays.merge_day
-- would append them so: an hourly append), 2 when the store has no row that day (an
-- hour past midnight: merge_store writes such a day as it is). Merging them here spares
-- reading every store's day into Python and writing it back. Well formed as polldays'
-- _well_formed says, counted in bytes: length() stops at a NUL, so a row with one could
-- pass a count of characters here that Python refuses (then Python merges it).
UPDATE temp.{table} AS s SET appended = CASE
    WHEN EXISTS (
        SELECT 1 FROM poll_days AS p
        WHERE p.day = s.day AND p.store_id = s.store_id AND p.last_us < s.first_us
          AND trim(p.statuses, '01') = '' AND length(CAST(p.statuses AS BLOB)) > 0
          AND length(CAST(p.times AS BLOB)) = 16 * length(CAST(p.statuses AS BLOB))
          AND length(CAST(p.times AS BLOB)) = length(p.times)
    ) THEN 1
    WHEN NOT EXISTS (
        SELECT 1 FROM poll_days AS p WHERE p.day = s.day AND p.store_id = s.store_id
    ) THEN 2
    ELSE 0
END
WHERE s.distinct_times AND s.day IS NOT NULL;

-- name: count_poll_appends
-- The polls the marked rows add: each is new.
SELECT coalesce(sum(length(statuses)), 0) FROM temp.{table} WHERE appended;

-- name: append_poll_days
UPDATE poll_days
SET times = poll_days.times || s.times, statuses = poll_days.statuses || s.statuses,
    last_us = s.last_us
FROM temp.{table} AS s
WHERE s.appended = 1 AND poll_days.day = s.day AND poll_days.store_id = s.store_id;

-- name: insert_new_poll_days
INSERT INTO poll_days (store_id, day, times, statuses, last_us)
SELECT store_id, day, times, statuses, last_us FROM temp.{table} WHERE appended = 2;

-- name: upsert_poll_append
-- One store's polls of one day, each once, straight from the buffer (_PollStage.merge,
-- never staged): written as they are when the store has no row that day, appended to the
-- row when they all come after its last poll and the row is well formed; as
-- mark_poll_appends, append_poll_days and insert_new_poll_days do. Any other row is left
-- as it is (no change is counted: the merge then takes the stage's way). The parameters:
-- store id, day, times, statuses, last instant, first instant.
INSERT INTO poll_days (store_id, day, times, statuses, last_us) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (store_id, day) DO UPDATE
SET times = poll_days.times || excluded.times,
    statuses = poll_days.statuses || excluded.statuses,
    last_us = excluded.last_us
WHERE poll_days.last_us < ?
  AND trim(poll_days.statuses, '01') = '' AND length(CAST(poll_days.statuses AS BLOB)) > 0
  AND length(CAST(poll_days.times AS BLOB)) = 16 * length(CAST(poll_days.statuses AS BLOB))
  AND length(CAST(poll_days.times AS BLOB)) = length(poll_days.times);

-- name: unstage_poll_appends
DELETE FROM temp.{table} WHERE appended;

-- name: staged_poll_stores
-- The staged rows by store, pieces in staging order.
SELECT store_id, times, statuses, distinct_times
FROM temp.{table}
ORDER BY store_id, piece;

-- name: stored_poll_days
-- The stored days from :first_day to :last_day (those a stage's polls fall on), by store.
SELECT store_id, day, times, statuses, last_us
FROM poll_days
WHERE day BETWEEN :first_day AND :last_day
ORDER BY store_id, day;

-- name: clear_poll_stage
DELETE FROM temp.{table};

-- name: drop_poll_stage
DROP TABLE IF EXISTS temp.{table};

-- name: write_poll_day
INSERT INTO poll_days (store_id, day, times, statuses, last_us) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (store_id, day) DO UPDATE
SET times = excluded.times, statuses = excluded.statuses, last_us = excluded.last_us;

-- name: delete_poll_day
DELETE FROM poll_days WHERE store_id = ? AND day = ?;

-- name: prune_poll_days
-- The day rows of the stores :first to :last (inclusive) up to :before_day, in key order:
-- what a prune at an instant of :before_day may change.
SELECT store_id, day, times, statuses
FROM poll_days
WHERE store_id BETWEEN :first AND :last AND day <= :before_day
ORDER BY store_id, day;

-- name: ping
SELECT 1;

-- name: latest_poll
-- The latest poll is in the latest day (a row's last_us lies in its day): one seek to the
-- end of the primary key, then that day's rows, not the whole table (a full scan of
-- twelve weeks cost a report 0.3 s).
SELECT max(last_us) FROM poll_days WHERE day = (SELECT max(day) FROM poll_days);

-- name: recent_store_ids
-- The stores of the day rows of the newest two days (a store once per day it has), in
-- no order: one range of the primary key (day, store_id), whatever the history; a
-- sample of the stores to cut them into ranges of about equal numbers (split_stores),
-- where the skip scan of every store (store_ids) costs more the longer the history
-- (0.04 s on a week, 0.05-0.14 s on twelve). Sorted in Python: with ORDER BY or
-- DISTINCT, SQLite reads the whole index by store instead.
SELECT store_id FROM poll_days WHERE day >= (SELECT max(day) FROM poll_days) - 1;

-- name: store_ids
-- Every store with polls from :first (included; NULL: from the first) up to :end (left
-- out; NULL: to the last), in order, by one primary-key seek per store (a skip scan).
WITH RECURSIVE stores (store_id) AS (
    SELECT min(store_id) FROM poll_days WHERE store_id >= coalesce(:first, '')
    UNION ALL
    SELECT (SELECT min(p.store_id) FROM poll_days AS p WHERE p.store_id > stores.store_id)
    FROM stores WHERE stores.store_id IS NOT NULL AND (:end IS NULL OR stores.store_id < :end)
)
SELECT store_id FROM stores
WHERE store_id IS NOT NULL AND (:end IS NULL OR store_id < :end);

-- name: store_ids_between
-- The stores :first to :last (inclusive) after :after (none when NULL), in order, by one
-- primary-key seek per store.
WITH RECURSIVE stores (store_id) AS (
    SELECT min(store_id) FROM poll_days
    WHERE store_id >= :first AND (:after IS NULL OR store_id > :after)
    UNION ALL
    SELECT (SELECT min(p.store_id) FROM poll_days AS p WHERE p.store_id > stores.store_id)
    FROM stores WHERE stores.store_id IS NOT NULL AND stores.store_id < :last
)
SELECT store_id FROM stores WHERE store_id IS NOT NULL AND store_id <= :last;

-- name: snapshot_changes
-- The polls of the stores :first to :last (inclusive) in [since, as_of], and the latest
-- poll of each before since (which decides the status at the start of the week), as ONE
-- string, so that SQLite builds it in one step without the GIL while Python works on the
-- previous one. Per store:
-- "<length of id>:<length of times>:<length of statuses>:<id><times><statuses>", the
-- times and statuses of its day rows from the last one before :since_day (or :since_day)
-- to :as_of_day, concatenated in day order; Python cuts them to [the latest poll before
-- since, as_of] (storemon.storage.polldays.window).
-- Each store costs three primary-key seeks (the next store id, its last day before
-- :since_day, the start of its range) and one range scan of about eight day rows: older
-- days are never read, so weeks of history cost the report nothing (a test counts the
-- steps). The stores come from the skip scan in order and each range is read in key
-- order (no temporary B-tree: a test checks the plan), so every string is in time order.
WITH RECURSIVE stores (store_id) AS (
    SELECT min(store_id) FROM poll_days WHERE store_id >= :first
    UNION ALL
    SELECT (SELECT min(p.store_id) FROM poll_days AS p WHERE p.store_id > stores.store_id)
    FROM stores WHERE stores.store_id IS NOT NULL AND stores.store_id < :last
), ranges (store_id, start_day) AS (
    SELECT store_id, coalesce(
        (SELECT max(q.day) FROM poll_days AS q WHERE q.store_id = stores.store_id AND q.day < :since_day),
        :since_day
    )
    FROM stores WHERE store_id IS NOT NULL AND store_id <= :last
)
SELECT group_concat(
    (SELECT length(r.store_id) || ':' || length(times) || ':' || length(statuses) || ':'
            || r.store_id || times || statuses
     FROM (
        SELECT group_concat(p.times, '') AS times, group_concat(p.statuses, '') AS statuses
        FROM poll_days AS p
        WHERE p.store_id = r.store_id AND p.day >= r.start_day AND p.day <= :as_of_day
     )),
    ''
)
FROM ranges AS r;

-- name: snapshot_hours
-- The rows of the stores from :first up to :end (as in store_ids).
SELECT store_id, day, start_us, end_us FROM hours
WHERE store_id >= coalesce(:first, '') AND (:end IS NULL OR store_id < :end)
ORDER BY store_id;

-- name: snapshot_zones
SELECT store_id, zone_key FROM zones
WHERE store_id >= coalesce(:first, '') AND (:end IS NULL OR store_id < :end)
ORDER BY store_id;

-- name: snapshot_special_hours
-- The special rows whose dates can touch the report's window (days :first_day to
-- :last_day), of the stores from :first up to :end (as in store_ids).
SELECT store_id, day, start_us, end_us FROM special_hours
WHERE day BETWEEN :first_day AND :last_day
  AND store_id >= coalesce(:first, '') AND (:end IS NULL OR store_id < :end)
ORDER BY store_id;

-- name: special_hours_rows
SELECT store_id, day, start_us, end_us FROM special_hours;

-- name: store_special_hours
SELECT day, start_us, end_us FROM special_hours
WHERE store_id = :store_id AND day BETWEEN :first AND :last;

-- name: count_special_hours
SELECT count(*) FROM special_hours;

-- name: delete_special_hours
DELETE FROM special_hours;

-- name: create_special_hours_stage
-- A new special-hours file, staged like business hours.
CREATE TEMP TABLE IF NOT EXISTS stage_special_hours (
    store_id TEXT NOT NULL, day INTEGER NOT NULL, start_us INTEGER NOT NULL, end_us INTEGER NOT NULL
);

-- name: stage_special_hours
INSERT INTO temp.stage_special_hours (store_id, day, start_us, end_us) VALUES (?, ?, ?, ?);

-- name: count_new_special_hours
-- Staged rows (each repeat counted) that the special_hours table does not hold yet.
SELECT count(*) FROM temp.stage_special_hours AS s
WHERE NOT EXISTS (
    SELECT 1 FROM special_hours AS h
    WHERE h.store_id = s.store_id AND h.day = s.day AND h.start_us = s.start_us
      AND h.end_us = s.end_us
);

-- name: merge_special_hours_stage
INSERT OR IGNORE INTO special_hours (store_id, day, start_us, end_us)
SELECT store_id, day, start_us, end_us FROM temp.stage_special_hours;

-- name: clear_special_hours_stage
DELETE FROM temp.stage_special_hours;

-- name: delete_hours
DELETE FROM hours;

-- name: count_hours
SELECT count(*) FROM hours;

-- name: count_zones
SELECT count(*) FROM zones;

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

-- name: create_zones_stage
CREATE TEMP TABLE IF NOT EXISTS stage_zones (store_id TEXT NOT NULL, zone_key TEXT NOT NULL);

-- name: stage_zones
INSERT INTO temp.stage_zones (store_id, zone_key) VALUES (?, ?);

-- name: count_changed_zones
-- Staged rows (each repeat counted) whose zone is not the one stored for their store.
SELECT count(*) FROM temp.stage_zones AS s
LEFT JOIN zones AS z ON z.store_id = s.store_id
WHERE z.zone_key IS NOT s.zone_key;

-- name: delete_zones
DELETE FROM zones;

-- name: merge_zones_stage
-- Inserted in file order, so a later row for a store replaces an earlier one.
INSERT OR REPLACE INTO zones (store_id, zone_key)
SELECT store_id, zone_key FROM temp.stage_zones ORDER BY rowid;

-- name: clear_zones_stage
DELETE FROM temp.stage_zones;

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
INSERT INTO reports (report_id, status, as_of, created_at, max_gap_us)
VALUES (?, 'Pending', ?, ?, ?);

-- name: finish_report
-- Only an unfinished job: a worker that lost its lease and ends late cannot overwrite
-- the report the worker that took it over has finished.
UPDATE reports SET status = 'Complete', csv = ?, row_count = ?, finished_at = ?,
                   claimed_by = NULL, lease_until = NULL
WHERE report_id = ? AND status IN ('Pending', 'Running');

-- name: fail_report
UPDATE reports SET status = 'Failed', error = ?, finished_at = ?,
                   claimed_by = NULL, lease_until = NULL
WHERE report_id = ? AND status IN ('Pending', 'Running');

-- name: get_report
SELECT report_id, status, as_of, created_at, finished_at, csv, error, max_gap_us
FROM reports WHERE report_id = ?;

-- name: list_reports
-- Newest first from the covering index reports_listed (never a CSV page); the next page
-- starts after (:before_at, :before_id), the last report listed, so that reports created
-- at the same instant are neither split nor repeated (report ids compare BINARY: code
-- point order, as on every backend).
SELECT report_id, status, as_of, created_at, finished_at, row_count
FROM reports
WHERE :before_at IS NULL
   OR created_at < :before_at
   OR (created_at = :before_at AND report_id < :before_id)
ORDER BY created_at DESC, report_id DESC
LIMIT :limit;

-- name: delete_reports
DELETE FROM reports WHERE status IN ('Complete', 'Failed') AND finished_at < ?;

-- name: claimable_report
-- Whether claim_report would find a job: a read, so that idle workers never take the
-- write lock to find nothing. "status IN (...)" as written in the partial index
-- reports_unfinished, so that the index serves (a test checks the plan).
SELECT EXISTS (
    SELECT 1 FROM reports
    WHERE status IN ('Pending', 'Running')
      AND (status = 'Pending' OR lease_until IS NULL OR lease_until < :now)
);

-- name: claim_report
-- The oldest job that is Pending, or Running with its lease run out (or without one),
-- ties in trigger order; run inside the write lock, so no two workers get one job.
UPDATE reports SET status = 'Running', claimed_by = :worker_id, lease_until = :until
WHERE rowid = (
    SELECT rowid FROM reports
    WHERE status IN ('Pending', 'Running')
      AND (status = 'Pending' OR lease_until IS NULL OR lease_until < :now)
    ORDER BY created_at, rowid
    LIMIT 1
)
RETURNING report_id, status, as_of, created_at, finished_at, csv, error, max_gap_us;

-- name: renew_lease
UPDATE reports SET lease_until = :until
WHERE report_id = :report_id AND claimed_by = :worker_id AND status = 'Running';

-- name: release_report
UPDATE reports SET status = 'Pending', claimed_by = NULL, lease_until = NULL
WHERE report_id = :report_id AND claimed_by = :worker_id AND status = 'Running';

-- name: queued_reports
SELECT count(*) FROM reports WHERE status IN ('Pending', 'Running') AND status = 'Pending';

-- name: claim_schedule
-- Record a run of the named task now unless one ran less than :every microseconds ago.
INSERT INTO schedule (name, last_at) VALUES (:name, :now)
ON CONFLICT (name) DO UPDATE SET last_at = excluded.last_at
WHERE schedule.last_at <= :now - :every
RETURNING last_at;

-- name: store_polls
-- One store's day rows from its last one before :since_day (or :since_day) to :as_of_day,
-- in day order (cut to [its latest poll before since, as_of] in Python): one seek for
-- that day, then a primary-key range from it (older days are never read).
SELECT times, statuses
FROM poll_days
WHERE store_id = :store_id
  AND day >= coalesce(
    (SELECT max(day) FROM poll_days WHERE store_id = :store_id AND day < :since_day), :since_day
  )
  AND day <= :as_of_day
ORDER BY day;

-- name: store_hours
SELECT day, start_us, end_us FROM hours WHERE store_id = ?;

-- name: store_zone
SELECT zone_key FROM zones WHERE store_id = ?;

-- name: shard_count
SELECT count(*) FROM report_shards WHERE report_id = ?;

-- name: insert_shard
INSERT INTO report_shards (report_id, number, first_store, end_store, status)
VALUES (?, ?, ?, ?, 'Pending');

-- name: claimable_shard
-- Whether claim_shard would find a shard: a read, so that idle workers never take the
-- write lock to find nothing.
SELECT EXISTS (
    SELECT 1 FROM report_shards
    WHERE status IN ('Pending', 'Running')
      AND (:report_id IS NULL OR report_id = :report_id)
      AND (status = 'Pending' OR lease_until IS NULL OR lease_until < :now)
);

-- name: claim_shard
-- A Pending shard, or a Running one with its lease run out, of an unfinished job: the
-- oldest job first, its lowest number first; run inside the write lock.
UPDATE report_shards SET status = 'Running', claimed_by = :worker_id, lease_until = :until
WHERE rowid = (
    SELECT s.rowid FROM report_shards AS s JOIN reports AS r USING (report_id)
    WHERE s.status IN ('Pending', 'Running')
      AND (s.status = 'Pending' OR s.lease_until IS NULL OR s.lease_until < :now)
      AND r.status IN ('Pending', 'Running')
      AND (:report_id IS NULL OR s.report_id = :report_id)
    ORDER BY r.created_at, r.rowid, s.number
    LIMIT 1
)
RETURNING report_id, number, first_store, end_store;

-- name: report_as_of
SELECT as_of, max_gap_us FROM reports WHERE report_id = ?;

-- name: renew_shard
UPDATE report_shards SET lease_until = :until
WHERE report_id = :report_id AND number = :number AND claimed_by = :worker_id
  AND status = 'Running';

-- name: release_shard
UPDATE report_shards SET status = 'Pending', claimed_by = NULL, lease_until = NULL
WHERE report_id = :report_id AND number = :number AND claimed_by = :worker_id
  AND status = 'Running';

-- name: finish_shard
UPDATE report_shards SET status = 'Done', lines = :lines, skipped = :skipped,
                         claimed_by = NULL, lease_until = NULL
WHERE report_id = :report_id AND number = :number AND status <> 'Done';

-- name: shards_left
SELECT count(*) FROM report_shards WHERE report_id = ? AND status IN ('Pending', 'Running');

-- name: shard_results
SELECT number, status, lines, skipped FROM report_shards WHERE report_id = ? ORDER BY number;

-- name: delete_shards
DELETE FROM report_shards WHERE report_id = ?;

-- name: delete_store_hours
DELETE FROM hours WHERE store_id = ?;

-- name: insert_hours
-- Identical rows are stored once (they count once anyway).
INSERT OR IGNORE INTO hours (store_id, day, start_us, end_us) VALUES (?, ?, ?, ?);

-- name: set_zone
INSERT OR REPLACE INTO zones (store_id, zone_key) VALUES (?, ?);
