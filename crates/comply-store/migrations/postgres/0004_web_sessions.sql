-- Dashboard sessions: a browser signs in with an API token and gets a random session
-- id in a cookie. Only the SHA-256 of that id is stored, as for token secrets; the
-- session acts with its token's org and role, and dies with the token.
CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY,
    token_id TEXT NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_by_token ON web_sessions (token_id);
