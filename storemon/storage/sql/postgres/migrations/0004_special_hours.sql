-- Schema version 4: special days (the fourth source) and the maximum gap of a report.

-- A special-hours row: a store's hours on one local calendar date, replacing its weekly
-- rows for the intervals that start on that date. "day" is the date as days since
-- 1970-01-01; times are microseconds after local midnight as in hours (an end of
-- 86400000000 was written 24:00:00); a row closed all that date has both times -1 (the
-- same integers as SQLite, which cannot have NULL in a primary key).
CREATE TABLE special_hours (
    store_id text COLLATE "C" NOT NULL,
    day integer NOT NULL,
    start_us bigint NOT NULL,
    end_us bigint NOT NULL,
    PRIMARY KEY (store_id, day, start_us, end_us)
);

-- The maximum gap a report is computed with, in microseconds; NULL: none (six columns).
ALTER TABLE reports ADD COLUMN max_gap_us bigint;
