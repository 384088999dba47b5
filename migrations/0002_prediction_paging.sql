-- Newest-first pages are read by (created_at, id): with the id in the index, a page after a
-- cursor is one index range scan even when many rows share a timestamp.
DROP INDEX predictions_created_at;
CREATE INDEX predictions_page ON predictions (created_at DESC, id DESC);
