-- A scheduled performance report is computed twice for each window: when the window ends
-- (trigger 'schedule': few outcomes yet, the CBPE estimate) and once its outcomes have had
-- time to arrive (trigger 'matured', `serve --outcome-horizon`). Each at most once.
ALTER TABLE performance_reports DROP CONSTRAINT performance_reports_trigger_check;
ALTER TABLE performance_reports ADD CONSTRAINT performance_reports_trigger_check
    CHECK (trigger IN ('cli', 'api', 'schedule', 'matured', 'backfill'));
CREATE UNIQUE INDEX performance_reports_matured_once
    ON performance_reports (model_version, window_start, window_end) WHERE trigger = 'matured';
