-- Outcomes: did the borrower default? One row per prediction; a later value replaces the
-- earlier one and is counted. The prediction's time, model version, score and decision are
-- copied in (they never change), so a performance report reads its labelled rows from this
-- narrow table alone.
CREATE TABLE outcomes (
    prediction_id         UUID PRIMARY KEY REFERENCES predictions (id) ON DELETE CASCADE,
    defaulted             BOOLEAN NOT NULL,
    observed_at           TIMESTAMPTZ NOT NULL,
    recorded_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    source                TEXT NOT NULL CHECK (source IN ('api', 'csv', 'simulator')),
    replaced              INTEGER NOT NULL DEFAULT 0,
    prediction_created_at TIMESTAMPTZ NOT NULL,
    model_version         BIGINT NOT NULL REFERENCES model_versions (id),
    probability           DOUBLE PRECISION NOT NULL,
    refused               BOOLEAN NOT NULL,
    sk_id_curr            BIGINT
);
CREATE INDEX outcomes_cohort ON outcomes (model_version, prediction_created_at);
CREATE INDEX outcomes_page ON outcomes (recorded_at DESC, prediction_id DESC);

-- A window's scores without reading the features: an index-only scan once vacuumed.
CREATE INDEX predictions_scores ON predictions (model_version, created_at)
    INCLUDE (id, probability, decision);

-- Labelled rows a model version was not trained on, with their scores: they calibrate the
-- performance estimate (CBPE) and give the AUC at initial validation.
CREATE TABLE holdout_scores (
    model_version BIGINT PRIMARY KEY REFERENCES model_versions (id) ON DELETE CASCADE,
    scores        DOUBLE PRECISION[] NOT NULL,
    defaulted     BOOLEAN[] NOT NULL,
    source        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE performance_reports (
    id              BIGSERIAL PRIMARY KEY,
    window_start    TIMESTAMPTZ NOT NULL,
    window_end      TIMESTAMPTZ NOT NULL,
    model_version   BIGINT NOT NULL REFERENCES model_versions (id),
    status          TEXT NOT NULL CHECK (status IN ('OK', 'WARNING', 'ALERT', 'INSUFFICIENT_DATA')),
    n_predictions   BIGINT NOT NULL,
    n_labelled      BIGINT NOT NULL,
    n_defaults      BIGINT NOT NULL,
    roc_auc         DOUBLE PRECISION,
    estimated_roc_auc DOUBLE PRECISION,
    -- Every figure (counts by decision, CIs, Gini, KS, Brier, log loss, the ECB AUC test,
    -- Jeffreys, Herfindahl, CBPE, notes), as the API answers it.
    metrics         JSONB NOT NULL,
    settings        JSONB NOT NULL,
    trigger         TEXT NOT NULL CHECK (trigger IN ('cli', 'api', 'schedule', 'backfill')),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX performance_reports_window ON performance_reports (window_end DESC);
CREATE UNIQUE INDEX performance_reports_scheduled_once
    ON performance_reports (model_version, window_start, window_end) WHERE trigger = 'schedule';

CREATE TABLE performance_grades (
    report_id        BIGINT NOT NULL REFERENCES performance_reports (id) ON DELETE CASCADE,
    grade            INTEGER NOT NULL,
    pd_low           DOUBLE PRECISION NOT NULL,
    pd_high          DOUBLE PRECISION NOT NULL,
    n                BIGINT NOT NULL,
    defaults         BIGINT NOT NULL,
    mean_pd          DOUBLE PRECISION,
    default_rate     DOUBLE PRECISION,
    jeffreys_p_value DOUBLE PRECISION,
    PRIMARY KEY (report_id, grade)
);
