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
CREATE TABLE poll_days (
    store_id TEXT NOT NULL,
    day INTEGER NOT NULL,
    times TEXT NOT NULL,
    statuses TEXT NOT NULL,
    last_us INTEGER NOT NULL,
    PRIMARY KEY (store_id, day)
) WITHOUT ROWID;

-- The polls stored so far, a day per row. The polls are read in key order (store, then
-- time), which is also the order of (store, day), so each day's instants and statuses
-- are concatenated in time order (a test migrates polls stored in no order).
INSERT INTO poll_days (store_id, day, times, statuses, last_us)
SELECT store_id, day, group_concat(printf('%016x', at_us), ''), group_concat(active, ''),
       max(at_us)
FROM (
    SELECT store_id, at_us, CASE WHEN active THEN 1 ELSE 0 END AS active,
           (at_us - (((at_us % 86400000000) + 86400000000) % 86400000000)) / 86400000000 AS day
    FROM polls
    ORDER BY store_id, at_us
)
GROUP BY store_id, day
ORDER BY store_id, day;

DROP TABLE polls;
