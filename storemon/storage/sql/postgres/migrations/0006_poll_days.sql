-- Schema version 6: a store's polls of one UTC day are one row, not one row each, as in
-- SQLite's version 6 (storemon.storage.polldays is the part both share).
--
-- An ingest of a week writes about 100,000 day rows instead of 1.8 million poll rows,
-- and a report reads each store's week as eight rows. docs/storage.md measures the choice.
--
-- times: the day's instants in increasing order, each once, as 16 hexadecimal digits
-- (microseconds since the Unix epoch, UTC, as 64-bit two's complement: any instant);
-- statuses: one character per instant, '1' active and '0' inactive; last_us: the day's
-- latest instant (the newest poll of the schema is max(last_us)). day is the UTC day of
-- every instant of the row: floor(at_us / 86400000000).
CREATE TABLE poll_days (
    store_id text COLLATE "C" NOT NULL,
    day integer NOT NULL,
    times text NOT NULL,
    statuses text NOT NULL,
    last_us bigint NOT NULL,
    PRIMARY KEY (store_id, day)
);

-- The polls stored so far, a day per row, each day's instants in time order (a test
-- migrates polls stored in no order, 1969 included). to_hex writes a negative bigint as
-- its 16 digits of two's complement already; lpad gives the others their leading zeros.
INSERT INTO poll_days (store_id, day, times, statuses, last_us)
SELECT store_id, day,
       string_agg(lpad(to_hex(at_us), 16, '0'), '' ORDER BY at_us),
       string_agg(CASE WHEN active THEN '1' ELSE '0' END, '' ORDER BY at_us),
       max(at_us)
FROM (
    SELECT store_id, at_us, active,
           ((at_us - (((at_us % 86400000000) + 86400000000) % 86400000000)) / 86400000000)::integer
               AS day
    FROM polls
) AS p
GROUP BY store_id, day
ORDER BY store_id, day;

DROP TABLE polls;

-- stores (version 5) already lists every store with polls; add_polls goes on keeping it.
