-- Named queries of the PostgreSQL backend: each block starts with "-- name: NAME".
-- Tables are unqualified: every connection's search_path is the configured schema.

-- name: create_poll_stage
-- The polls of one stage (stage_polls), a row per store and flush of the stage's buffer
-- (a "piece": storemon.storage.polldays.PollBuffer.drain_stores), COPYed here outside
-- any transaction before one merge; dropped when the stage ends. A row per store, not
-- per store and day: a file in no order over many weeks would make each flush a million
-- rows of a few polls.
CREATE TEMP TABLE IF NOT EXISTS stage_poll_stores (
    store_id text COLLATE "C" NOT NULL, piece integer NOT NULL,
    times text NOT NULL, statuses text NOT NULL, distinct_times boolean NOT NULL
);

-- name: staged_poll_stores
-- The staged rows by store, pieces in staging order.
SELECT store_id, times, statuses, distinct_times
FROM stage_poll_stores
ORDER BY store_id, piece;

-- name: stored_poll_days
-- The stored days from day $1 to day $2 (those the staged polls fall on) of the staged
-- stores, by store and day: per staged store, one range of the primary key (OFFSET 0
-- keeps the planner from flattening the LATERAL into a join it would plan blind: the
-- stage's table has no statistics), so an hour appended to weeks of history reads only
-- the days of that hour.
SELECT s.store_id, d.day, d.times, d.statuses, d.last_us
FROM (SELECT DISTINCT store_id FROM stage_poll_stores) AS s
CROSS JOIN LATERAL (
    SELECT p.day, p.times, p.statuses, p.last_us
    FROM poll_days AS p
    WHERE p.store_id = s.store_id AND p.day BETWEEN $1 AND $2
    OFFSET 0
) AS d
ORDER BY s.store_id, d.day;

-- name: create_poll_day_writes
-- Stored days that a merge or a prune rewrites, COPYed here inside its transaction, then
-- written over the stored rows in one statement (update_poll_days).
CREATE TEMP TABLE IF NOT EXISTS write_poll_days (
    store_id text COLLATE "C" NOT NULL, day integer NOT NULL, times text NOT NULL,
    statuses text NOT NULL, last_us bigint NOT NULL
) ON COMMIT DROP;

-- name: update_poll_days
UPDATE poll_days AS d SET times = w.times, statuses = w.statuses, last_us = w.last_us
FROM write_poll_days AS w
WHERE d.store_id = w.store_id AND d.day = w.day;

-- name: upsert_poll_appends
-- An hourly append straight from the buffer (_PollStage.merge, never staged), a row per
-- store of its polls of one day, each once: written as it is when the store has no row
-- that day, appended to the row when its polls all come after the row's last one and
-- the row is well formed (as polldays.merge_day appends, and SQLite's
-- upsert_poll_append); any other row is left as it is and not counted, and the merge
-- then takes the stage's way. Returns the rows written or lengthened. The first instant
-- of a row is its first 16 hexadecimal digits, read as a bigint.
WITH upserted AS (
    INSERT INTO poll_days (store_id, day, times, statuses, last_us)
    SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[], $5::bigint[])
    ON CONFLICT (store_id, day) DO UPDATE
    SET times = poll_days.times || excluded.times,
        statuses = poll_days.statuses || excluded.statuses,
        last_us = excluded.last_us
    WHERE poll_days.last_us < ('x' || substr(excluded.times, 1, 16))::bit(64)::bigint
      AND poll_days.statuses <> '' AND btrim(poll_days.statuses, '01') = ''
      AND length(poll_days.times) = 16 * length(poll_days.statuses)
    RETURNING 1
)
SELECT count(*) FROM upserted;

-- name: add_stores
-- Stores that the stores table does not hold yet.
INSERT INTO stores (store_id)
SELECT DISTINCT store_id FROM unnest($1::text[]) AS s (store_id)
ON CONFLICT DO NOTHING;

-- name: merge_stores
-- The stores of the staged polls that the stores table does not hold yet.
INSERT INTO stores (store_id)
SELECT DISTINCT store_id FROM stage_poll_stores
ON CONFLICT DO NOTHING;

-- name: create_hours_stage
CREATE TEMP TABLE IF NOT EXISTS stage_hours (
    store_id text COLLATE "C" NOT NULL, day smallint NOT NULL, start_us bigint NOT NULL,
    end_us bigint NOT NULL, seq bigint NOT NULL
) ON COMMIT DROP;

-- name: count_new_hours
-- Staged rows (each repeat counted) that the hours table does not hold yet.
SELECT count(*) FROM stage_hours AS s
WHERE NOT EXISTS (
    SELECT 1 FROM hours AS h
    WHERE h.store_id = s.store_id AND h.day = s.day AND h.start_us = s.start_us
      AND h.end_us = s.end_us
);

-- name: merge_hours
INSERT INTO hours (store_id, day, start_us, end_us)
SELECT store_id, day, start_us, end_us FROM stage_hours
ON CONFLICT DO NOTHING;

-- name: create_zones_stage
CREATE TEMP TABLE IF NOT EXISTS stage_zones (
    store_id text COLLATE "C" NOT NULL, zone_key text NOT NULL, seq bigint NOT NULL
) ON COMMIT DROP;

-- name: count_changed_zones
-- Staged rows (each repeat counted) whose zone is not the one stored for their store.
SELECT count(*) FROM stage_zones AS s
LEFT JOIN zones AS z USING (store_id)
WHERE z.zone_key IS DISTINCT FROM s.zone_key;

-- name: merge_zones
-- A later row for a store wins.
INSERT INTO zones (store_id, zone_key)
SELECT DISTINCT ON (store_id) store_id, zone_key FROM stage_zones ORDER BY store_id, seq DESC;

-- name: store_ids
-- Every store with polls, in order, by one primary-key seek per store (a skip scan: a
-- DISTINCT would read every day row).
WITH RECURSIVE stores (store_id) AS (
    (SELECT store_id FROM poll_days ORDER BY store_id LIMIT 1)
    UNION ALL
    SELECT (SELECT p.store_id FROM poll_days AS p WHERE p.store_id > s.store_id
            ORDER BY p.store_id LIMIT 1)
    FROM stores AS s WHERE s.store_id IS NOT NULL
)
SELECT store_id FROM stores WHERE store_id IS NOT NULL;

-- name: prune_poll_days
-- The day rows of the stores $1 to $2 (inclusive) up to the day $3, in key order: what a
-- prune at an instant of that day may change.
SELECT store_id, day, times, statuses
FROM poll_days
WHERE store_id BETWEEN $1 AND $2 AND day <= $3
ORDER BY store_id, day;

-- name: delete_poll_days
DELETE FROM poll_days AS d
USING unnest($1::text[], $2::integer[]) AS gone (store_id, day)
WHERE d.store_id = gone.store_id AND d.day = gone.day;

-- name: create_special_hours_stage
CREATE TEMP TABLE IF NOT EXISTS stage_special_hours (
    store_id text COLLATE "C" NOT NULL, day integer NOT NULL, start_us bigint NOT NULL,
    end_us bigint NOT NULL, seq bigint NOT NULL
) ON COMMIT DROP;

-- name: count_new_special_hours
-- Staged rows (each repeat counted) that the special_hours table does not hold yet.
SELECT count(*) FROM stage_special_hours AS s
WHERE NOT EXISTS (
    SELECT 1 FROM special_hours AS h
    WHERE h.store_id = s.store_id AND h.day = s.day AND h.start_us = s.start_us
      AND h.end_us = s.end_us
);

-- name: merge_special_hours
INSERT INTO special_hours (store_id, day, start_us, end_us)
SELECT store_id, day, start_us, end_us FROM stage_special_hours
ON CONFLICT DO NOTHING;

-- name: store_hours
SELECT day, start_us, end_us FROM hours WHERE store_id = $1;

-- name: store_zone
SELECT zone_key FROM zones WHERE store_id = $1;

-- name: delete_store_hours
DELETE FROM hours WHERE store_id = $1;

-- name: insert_hours
-- Identical rows are stored once (they count once anyway).
INSERT INTO hours (store_id, day, start_us, end_us) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING;

-- name: set_zone
INSERT INTO zones (store_id, zone_key) VALUES ($1, $2)
ON CONFLICT (store_id) DO UPDATE SET zone_key = excluded.zone_key;

-- name: latest_poll
SELECT max(last_us) FROM poll_days;

-- name: snapshots
-- One row per store with a day row from the day of since ($1) to the day of as_of ($2)
-- or one before: the times and statuses of its day rows from the last one before since's
-- day (or since's day) to as_of's day, concatenated in day order (cut to [its latest poll
-- before since, as_of] in Python: storemon.storage.polldays), with its zone, hours rows
-- and the special rows of days $3 to $4 (those whose dates can touch the window); of the
-- stores from $5 (included) up to $6 (left out) only: '' and NULL for every store, a
-- range for a shard of a report, which reads nothing of the other stores.
-- Per store, from a skip scan of the primary key (one seek for the next store id): one
-- seek for its last day before since's day, then one range of the primary key from that
-- day to as_of's day, about eight rows. Older days are never read, so weeks of history
-- cost nothing.
WITH RECURSIVE stores (store_id) AS (
    (SELECT store_id FROM poll_days WHERE store_id >= $5 ORDER BY store_id LIMIT 1)
    UNION ALL
    SELECT (SELECT p.store_id FROM poll_days AS p WHERE p.store_id > s.store_id
            ORDER BY p.store_id LIMIT 1)
    FROM stores AS s
    WHERE s.store_id IS NOT NULL AND ($6::text IS NULL OR s.store_id < $6)
), by_store AS (
    SELECT s.store_id, w.times, w.statuses
    FROM stores AS s
    CROSS JOIN LATERAL (
        SELECT string_agg(p.times, '' ORDER BY p.day) AS times,
               string_agg(p.statuses, '' ORDER BY p.day) AS statuses
        FROM poll_days AS p
        WHERE p.store_id = s.store_id
          AND p.day >= coalesce(
            (SELECT q.day FROM poll_days AS q WHERE q.store_id = s.store_id AND q.day < $1
             ORDER BY q.day DESC LIMIT 1),
            $1)
          AND p.day <= $2
    ) AS w
    WHERE s.store_id IS NOT NULL AND ($6::text IS NULL OR s.store_id < $6)
      AND w.times IS NOT NULL
), store_hours AS (
    SELECT store_id, array_agg(day) AS days, array_agg(start_us) AS starts,
           array_agg(end_us) AS ends
    FROM hours WHERE store_id >= $5 AND ($6::text IS NULL OR store_id < $6)
    GROUP BY store_id
), store_special AS (
    SELECT store_id, array_agg(day ORDER BY day, start_us, end_us) AS special_days,
           array_agg(start_us ORDER BY day, start_us, end_us) AS special_starts,
           array_agg(end_us ORDER BY day, start_us, end_us) AS special_ends
    FROM special_hours
    WHERE day BETWEEN $3 AND $4 AND store_id >= $5 AND ($6::text IS NULL OR store_id < $6)
    GROUP BY store_id
)
SELECT b.store_id, b.times, b.statuses, z.zone_key, h.days, h.starts, h.ends,
       s.special_days, s.special_starts, s.special_ends
FROM by_store AS b
LEFT JOIN zones AS z USING (store_id)
LEFT JOIN store_hours AS h USING (store_id)
LEFT JOIN store_special AS s USING (store_id);

-- name: store_snapshot
-- The row of "snapshots" for one store ($3): one seek for its last day before since's
-- day ($1), then one range of the primary key from it to as_of's day ($2).
WITH window_days AS (
    SELECT day, times, statuses FROM poll_days
    WHERE store_id = $3
      AND day >= coalesce(
        (SELECT day FROM poll_days WHERE store_id = $3 AND day < $1 ORDER BY day DESC LIMIT 1),
        $1)
      AND day <= $2
)
SELECT (SELECT string_agg(times, '' ORDER BY day) FROM window_days) AS times,
       (SELECT string_agg(statuses, '' ORDER BY day) FROM window_days) AS statuses,
       (SELECT zone_key FROM zones WHERE store_id = $3) AS zone_key,
       (SELECT array_agg(day) FROM hours WHERE store_id = $3) AS days,
       (SELECT array_agg(start_us) FROM hours WHERE store_id = $3) AS starts,
       (SELECT array_agg(end_us) FROM hours WHERE store_id = $3) AS ends,
       (SELECT array_agg(day ORDER BY day, start_us, end_us) FROM special_hours
        WHERE store_id = $3 AND day BETWEEN $4 AND $5) AS special_days,
       (SELECT array_agg(start_us ORDER BY day, start_us, end_us) FROM special_hours
        WHERE store_id = $3 AND day BETWEEN $4 AND $5) AS special_starts,
       (SELECT array_agg(end_us ORDER BY day, start_us, end_us) FROM special_hours
        WHERE store_id = $3 AND day BETWEEN $4 AND $5) AS special_ends;

-- name: hours_rows
SELECT store_id, day, start_us, end_us FROM hours;

-- name: zone_rows
SELECT store_id, zone_key FROM zones;

-- name: special_hours_rows
SELECT store_id, day, start_us, end_us FROM special_hours;

-- name: count_special_hours
SELECT count(*) FROM special_hours;

-- name: count_hours
SELECT count(*) FROM hours;

-- name: count_zones
SELECT count(*) FROM zones;

-- name: get_source_state
SELECT kind, source, size, content_hash, offset_bytes, prefix_hash, lines, ingested_at,
       mtime_ns, etag, last_modified
FROM source_state WHERE kind = $1 AND source = $2;

-- name: save_source_state
INSERT INTO source_state (
    kind, source, size, content_hash, offset_bytes, prefix_hash, lines, ingested_at,
    mtime_ns, etag, last_modified
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (kind, source) DO UPDATE SET
    size = excluded.size, content_hash = excluded.content_hash,
    offset_bytes = excluded.offset_bytes, prefix_hash = excluded.prefix_hash,
    lines = excluded.lines, ingested_at = excluded.ingested_at, mtime_ns = excluded.mtime_ns,
    etag = excluded.etag, last_modified = excluded.last_modified;

-- name: clear_rejects
DELETE FROM rejects WHERE source = $1;

-- name: all_rejects
SELECT source, line, "column", reason, text FROM rejects ORDER BY source, line;

-- name: source_rejects
SELECT source, line, "column", reason, text FROM rejects WHERE source = $1 ORDER BY line;

-- name: create_report
INSERT INTO reports (report_id, status, as_of, created_at, max_gap_us)
VALUES ($1, 'Pending', $2, $3, $4);

-- name: finish_report
-- Only an unfinished job: a worker that lost its lease and ends late cannot overwrite
-- the report the worker that took it over has finished.
UPDATE reports SET status = 'Complete', csv = $1, row_count = $2, finished_at = $3,
                   claimed_by = NULL, lease_until = NULL
WHERE report_id = $4 AND status IN ('Pending', 'Running');

-- name: fail_report
UPDATE reports SET status = 'Failed', error = $1, finished_at = $2, claimed_by = NULL,
                   lease_until = NULL
WHERE report_id = $3 AND status IN ('Pending', 'Running');

-- name: delete_shards
DELETE FROM report_shards WHERE report_id = $1;

-- name: get_report
SELECT report_id, status, as_of, created_at, finished_at, csv, error, max_gap_us
FROM reports WHERE report_id = $1;

-- name: list_reports
-- Newest first; the next page starts after ($1, $2), the creation time and id of the last
-- report listed (null for the first page), so that reports created at the same instant
-- are neither split nor repeated; $3: how many. Ids compare in code point order (COLLATE
-- "C") whatever the database's locale, as on every backend.
SELECT report_id, status, as_of, created_at, finished_at, row_count
FROM reports
WHERE $1::bigint IS NULL
   OR created_at < $1
   OR (created_at = $1 AND report_id COLLATE "C" < $2::text)
ORDER BY created_at DESC, report_id COLLATE "C" DESC
LIMIT $3;

-- name: delete_reports
DELETE FROM reports WHERE status IN ('Complete', 'Failed') AND finished_at < $1;

-- name: claim_report
-- The oldest job that is Pending, or Running with its lease run out (or without one):
-- rows other processes are claiming right now are skipped, never waited for.
UPDATE reports
SET status = 'Running', claimed_by = $1, lease_until = now() + make_interval(secs => $2)
WHERE report_id = (
    SELECT report_id FROM reports
    WHERE status = 'Pending'
       OR (status = 'Running' AND (lease_until IS NULL OR lease_until < now()))
    ORDER BY created_at, report_id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING report_id, status, as_of, created_at, finished_at, csv, error, max_gap_us;

-- name: renew_lease
UPDATE reports SET lease_until = now() + make_interval(secs => $3)
WHERE report_id = $1 AND claimed_by = $2 AND status = 'Running';

-- name: release_report
UPDATE reports SET status = 'Pending', claimed_by = NULL, lease_until = NULL
WHERE report_id = $1 AND claimed_by = $2 AND status = 'Running';

-- name: notify_work
-- Wake the workers listening on channel $1 (every process on the schema $2 names).
SELECT pg_notify($1, $2);

-- name: queued_reports
SELECT count(*) FROM reports WHERE status = 'Pending';

-- name: claim_schedule
-- Record a run of the named task ($1) unless one ran less than $2 seconds ago.
INSERT INTO schedule AS s (name, last_at) VALUES ($1, now())
ON CONFLICT (name) DO UPDATE SET last_at = now()
WHERE s.last_at <= now() - make_interval(secs => $2)
RETURNING last_at;

-- name: count_stores
SELECT count(*) FROM stores;

-- name: store_starts
-- The first store of each run of $1 stores with polls, in byte order: one ordered scan
-- of the stores table's primary key.
SELECT store_id FROM (
    SELECT store_id, row_number() OVER (ORDER BY store_id) - 1 AS n FROM stores
) AS numbered
WHERE n % $1 = 0
ORDER BY store_id;

-- name: lock_report
SELECT as_of FROM reports WHERE report_id = $1 FOR UPDATE;

-- name: shard_count
SELECT count(*) FROM report_shards WHERE report_id = $1;

-- name: claim_shard
-- A Pending shard, or a Running one with its lease run out, of an unfinished job ($3:
-- of that job only, when not NULL): the oldest job first, its lowest number first;
-- shards other processes are claiming right now are skipped, never waited for.
UPDATE report_shards AS s
SET status = 'Running', claimed_by = $1, lease_until = now() + make_interval(secs => $2)
FROM reports AS r
WHERE (s.report_id, s.number) = (
    SELECT c.report_id, c.number FROM report_shards AS c JOIN reports AS j USING (report_id)
    WHERE c.status IN ('Pending', 'Running')
      AND (c.status = 'Pending' OR c.lease_until IS NULL OR c.lease_until < now())
      AND j.status IN ('Pending', 'Running')
      AND ($3::text IS NULL OR c.report_id = $3)
    ORDER BY j.created_at, j.report_id, c.number
    LIMIT 1
    FOR UPDATE OF c SKIP LOCKED
) AND r.report_id = s.report_id
RETURNING s.report_id, s.number, s.first_store, s.end_store, r.as_of, r.max_gap_us;

-- name: renew_shard
UPDATE report_shards SET lease_until = now() + make_interval(secs => $4)
WHERE report_id = $1 AND number = $2 AND claimed_by = $3 AND status = 'Running';

-- name: release_shard
UPDATE report_shards SET status = 'Pending', claimed_by = NULL, lease_until = NULL
WHERE report_id = $1 AND number = $2 AND claimed_by = $3 AND status = 'Running';

-- name: finish_shard
UPDATE report_shards SET status = 'Done', lines = $3, skipped = $4, claimed_by = NULL,
                         lease_until = NULL
WHERE report_id = $1 AND number = $2 AND status <> 'Done';

-- name: shards_left
SELECT count(*) FROM report_shards WHERE report_id = $1 AND status IN ('Pending', 'Running');

-- name: shard_results
SELECT number, status, lines, skipped FROM report_shards WHERE report_id = $1 ORDER BY number;
