-- Who asked for a report: the command line, the API, the scheduler or a backfill. The
-- scheduler computes each window once, even with several servers on one database.
ALTER TABLE drift_reports ADD COLUMN trigger TEXT NOT NULL DEFAULT 'cli'
    CHECK (trigger IN ('cli', 'api', 'schedule', 'backfill'));
CREATE UNIQUE INDEX drift_reports_scheduled_once
    ON drift_reports (model_version, window_start, window_end) WHERE trigger = 'schedule';
