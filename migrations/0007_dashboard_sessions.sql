-- Dashboard sign-in: one session per signed-in browser, tied to the API key it signed in
-- with (revoking the key ends its sessions at once). Only the token's SHA-256 is stored.
CREATE TABLE dashboard_sessions (
    token_hash  TEXT PRIMARY KEY,
    key_id      BIGINT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);
