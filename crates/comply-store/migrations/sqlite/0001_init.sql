-- comply schema, SQLite flavour. Never edit a released migration; add a new one.
-- Timestamps are epoch milliseconds; booleans are 0/1; JSON is TEXT.

CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE,
    settings    TEXT    NOT NULL,
    audit_seq   BIGINT  NOT NULL DEFAULT 0,
    audit_head  TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE tokens (
    id              TEXT    PRIMARY KEY,
    org_id          BIGINT  NOT NULL REFERENCES orgs(id),
    name            TEXT    NOT NULL,
    role            TEXT    NOT NULL,
    secret_hash     TEXT    NOT NULL,
    instance_admin  BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT,
    revoked_at      BIGINT
);
CREATE INDEX tokens_by_org ON tokens (org_id);

CREATE TABLE resources (
    org_id      BIGINT  NOT NULL REFERENCES orgs(id),
    kind        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    revision    BIGINT  NOT NULL,
    digest      TEXT    NOT NULL,
    document    TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (org_id, kind, name)
);

CREATE TABLE resource_revisions (
    org_id      BIGINT  NOT NULL REFERENCES orgs(id),
    kind        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    revision    BIGINT  NOT NULL,
    digest      TEXT    NOT NULL,
    document    TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    PRIMARY KEY (org_id, kind, name, revision)
);

CREATE TABLE resource_refs (
    org_id      BIGINT  NOT NULL REFERENCES orgs(id),
    from_kind   TEXT    NOT NULL,
    from_name   TEXT    NOT NULL,
    to_kind     TEXT    NOT NULL,
    to_name     TEXT    NOT NULL,
    PRIMARY KEY (org_id, from_kind, from_name, to_kind, to_name)
);
CREATE INDEX resource_refs_to ON resource_refs (org_id, to_kind, to_name);

CREATE TABLE requirement_state (
    org_id      BIGINT  NOT NULL REFERENCES orgs(id),
    name        TEXT    NOT NULL,
    active      BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (org_id, name)
);

CREATE TABLE audit_events (
    org_id      BIGINT  NOT NULL REFERENCES orgs(id),
    seq         BIGINT  NOT NULL,
    time_ms     BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    revision    BIGINT,
    digest      TEXT,
    detail      TEXT,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_by_target ON audit_events (org_id, target);

-- Org 0 owns built-in content and its audit chain; its name is not a valid org name.
INSERT INTO orgs (id, name, settings, audit_seq, audit_head, created_at)
VALUES (0, '_builtin', '{}', 0, 'sha256:0000000000000000000000000000000000000000000000000000000000000000', 0);
