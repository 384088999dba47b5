-- The whole scorewatch data model: models, predictions, the training reference, drift
-- reports, API keys and the service's own logs.

CREATE TABLE model_versions (
    id            BIGSERIAL PRIMARY KEY,
    sha256        TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    feature_names TEXT[] NOT NULL,
    threshold     DOUBLE PRECISION NOT NULL CHECK (threshold > 0 AND threshold < 1),
    importances   DOUBLE PRECISION[] NOT NULL DEFAULT '{}',
    metrics       JSONB NOT NULL DEFAULT '{}',
    -- The LightGBM text model itself, so that every server behind a load balancer loads
    -- the active version from the database and keeps nothing on local disk.
    model_text    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    active        BOOLEAN NOT NULL DEFAULT false
);
-- At most one active version.
CREATE UNIQUE INDEX model_versions_one_active ON model_versions (active) WHERE active;

CREATE TABLE predictions (
    id                UUID PRIMARY KEY,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    model_version     BIGINT NOT NULL REFERENCES model_versions (id),
    sk_id_curr        BIGINT,
    -- In the model's feature order; NULL = missing.
    features          DOUBLE PRECISION[] NOT NULL,
    probability       DOUBLE PRECISION NOT NULL CHECK (probability >= 0 AND probability <= 1),
    decision          TEXT NOT NULL CHECK (decision IN ('APPROVED', 'REFUSED')),
    threshold         DOUBLE PRECISION NOT NULL,
    inference_time_ms DOUBLE PRECISION NOT NULL,
    source            TEXT NOT NULL CHECK (source IN ('api', 'batch', 'ui', 'simulator')),
    request_id        TEXT
);
CREATE INDEX predictions_created_at ON predictions (created_at DESC);
CREATE INDEX predictions_sk_id_curr ON predictions (sk_id_curr, created_at DESC);

-- Features keyed by name, for SQL users and Grafana.
CREATE VIEW predictions_with_features AS
SELECT p.id, p.created_at, p.model_version, p.sk_id_curr, p.probability, p.decision,
       p.threshold, p.inference_time_ms, p.source, p.request_id,
       (SELECT jsonb_object_agg(f.name, f.value)
          FROM unnest(m.feature_names, p.features) AS f (name, value)) AS features
  FROM predictions p
  JOIN model_versions m ON m.id = p.model_version;

CREATE TABLE training_reference (
    model_version  BIGINT NOT NULL REFERENCES model_versions (id) ON DELETE CASCADE,
    feature        TEXT NOT NULL,
    position       INTEGER NOT NULL,
    mean           DOUBLE PRECISION,
    std            DOUBLE PRECISION,
    median         DOUBLE PRECISION,
    q25            DOUBLE PRECISION,
    q75            DOUBLE PRECISION,
    min            DOUBLE PRECISION,
    max            DOUBLE PRECISION,
    missing_rate   DOUBLE PRECISION NOT NULL,
    n_samples      BIGINT NOT NULL,
    n_distinct     INTEGER NOT NULL,
    -- Non-missing reference values, ascending, for KS and Wasserstein without the CSV.
    sorted_sample  DOUBLE PRECISION[] NOT NULL DEFAULT '{}',
    -- Inner edges of the reference-quantile bins used by PSI.
    psi_bin_edges  DOUBLE PRECISION[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (model_version, feature)
);

-- The model applied to the reference rows: the baseline of score drift.
CREATE TABLE reference_scores (
    model_version BIGINT PRIMARY KEY REFERENCES model_versions (id) ON DELETE CASCADE,
    scores        DOUBLE PRECISION[] NOT NULL,
    refusal_rate  DOUBLE PRECISION NOT NULL
);

CREATE TABLE drift_reports (
    id                    BIGSERIAL PRIMARY KEY,
    window_start          TIMESTAMPTZ NOT NULL,
    window_end            TIMESTAMPTZ NOT NULL,
    model_version         BIGINT NOT NULL REFERENCES model_versions (id),
    n_reference           BIGINT NOT NULL,
    n_current             BIGINT NOT NULL,
    n_features_analyzed   INTEGER NOT NULL,
    n_features_drifted    INTEGER NOT NULL,
    drift_share           DOUBLE PRECISION NOT NULL,
    weighted_drift_share  DOUBLE PRECISION,
    status                TEXT NOT NULL CHECK (status IN ('OK', 'WARNING', 'ALERT', 'INSUFFICIENT_DATA')),
    score_psi             DOUBLE PRECISION,
    score_ks_statistic    DOUBLE PRECISION,
    score_ks_p_value      DOUBLE PRECISION,
    refusal_rate_ref      DOUBLE PRECISION,
    refusal_rate_cur      DOUBLE PRECISION,
    settings              JSONB NOT NULL DEFAULT '{}',
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX drift_reports_window ON drift_reports (window_end DESC);

CREATE TABLE drift_feature_results (
    report_id         BIGINT NOT NULL REFERENCES drift_reports (id) ON DELETE CASCADE,
    feature           TEXT NOT NULL,
    test              TEXT NOT NULL,
    ks_statistic      DOUBLE PRECISION,
    ks_p_value        DOUBLE PRECISION,
    chi2_statistic    DOUBLE PRECISION,
    chi2_p_value      DOUBLE PRECISION,
    p_adjusted        DOUBLE PRECISION,
    psi               DOUBLE PRECISION,
    wasserstein_norm  DOUBLE PRECISION,
    jensen_shannon    DOUBLE PRECISION,
    missing_rate_ref  DOUBLE PRECISION NOT NULL,
    missing_rate_cur  DOUBLE PRECISION NOT NULL,
    importance        DOUBLE PRECISION,
    drift             BOOLEAN NOT NULL,
    PRIMARY KEY (report_id, feature)
);

CREATE TABLE api_keys (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('scorer', 'viewer', 'officer', 'admin')),
    -- SHA-256 of the key; the key itself is shown once, when created.
    key_hash     TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

CREATE TABLE api_logs (
    id         BIGSERIAL PRIMARY KEY,
    ts         TIMESTAMPTZ NOT NULL DEFAULT now(),
    level      TEXT NOT NULL,
    target     TEXT NOT NULL,
    message    TEXT NOT NULL,
    request_id TEXT,
    method     TEXT,
    path       TEXT,
    status     INTEGER,
    latency_ms DOUBLE PRECISION,
    fields     JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX api_logs_ts ON api_logs (ts DESC);
