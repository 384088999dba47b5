-- The exact bounds a drift report read its window with, so that reading the window again
-- (the drill-down, the HTML report, the performance section) finds the same predictions:
-- `read_until` is the exclusive end of the read, `first_id` the id of the first prediction
-- of a report of the newest n (predictions made in the same microsecond are told apart by
-- id). NULL for reports stored before: read again as before.
ALTER TABLE drift_reports ADD COLUMN read_until TIMESTAMPTZ, ADD COLUMN first_id UUID;
