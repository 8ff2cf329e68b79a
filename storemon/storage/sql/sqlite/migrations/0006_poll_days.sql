-- Schema version 6: a store's polls of one UTC day are one row, not one row each.
--
-- An ingest of a week writes about 100,000 day rows instead of 1.8 million poll rows
-- (the rows in no order made each poll a random seek in a B-tree of millions), and a
-- report reads each store's week as eight rows. docs/storage.md measures the choice.
--
-- times: the day's instants in increasing order, each once, as 16 hexadecimal digits
-- (microseconds since the Unix epoch, UTC, as 64-bit two's complement: any instant);
-- statuses: one character per instant, '1' active and '0' inactive; last_us: the day's
-- latest instant (the newest poll of the database is max(last_us)). day is the UTC day
-- of every instant of the row: floor(at_us / 86400000000).
--
-- Clustered by day, then store: the rows of one day sit together, so an hourly append,
-- which lengthens the current day's row of every store, rewrites the pages of that day
-- only (clustered by store, it rewrote a page per store: the whole table once a week
-- of history was stored). Each store's days are found through poll_days_by_store, which
-- changes only when a store gets a new day.
CREATE TABLE poll_days (
    store_id TEXT NOT NULL,
    day INTEGER NOT NULL,
    times TEXT NOT NULL,
    statuses TEXT NOT NULL,
    last_us INTEGER NOT NULL,
    PRIMARY KEY (day, store_id)
) WITHOUT ROWID;

CREATE INDEX poll_days_by_store ON poll_days (store_id, day);

-- The polls stored so far, a day per row: a running concatenation over each store's
-- day in time order (a window's frame grows row by row in its ORDER BY, where a GROUP BY
-- would concatenate in no promised order), kept at the day's last poll.
INSERT INTO poll_days (store_id, day, times, statuses, last_us)
SELECT store_id, day, times, statuses, at_us
FROM (
    SELECT store_id, day, at_us,
           group_concat(printf('%016x', at_us), '') OVER running AS times,
           group_concat(active, '') OVER running AS statuses,
           lead(at_us) OVER running AS next_us
    FROM (
        SELECT store_id, at_us, CASE WHEN active THEN 1 ELSE 0 END AS active,
               (at_us - (((at_us % 86400000000) + 86400000000) % 86400000000)) / 86400000000
                   AS day
        FROM polls
    )
    WINDOW running AS (
        PARTITION BY store_id, day ORDER BY at_us ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
)
WHERE next_us IS NULL;

DROP TABLE polls;
