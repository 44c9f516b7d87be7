-- comply schema, SQLite flavour.
-- Evidence: trusted keys, projects and their versions, workflows, attestations and
-- their policy evaluations; manual decisions: proofs, exceptions, overrides.

CREATE TABLE trusted_keys (
    org_id       BIGINT  NOT NULL REFERENCES orgs(id),
    name         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    algorithm    TEXT    NOT NULL,
    pem          TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (org_id, name)
);

CREATE TABLE projects (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          BIGINT  NOT NULL REFERENCES orgs(id),
    name            TEXT    NOT NULL,
    pinned_latest   TEXT,
    created_at      BIGINT  NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE project_versions (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id              BIGINT  NOT NULL REFERENCES orgs(id),
    project_id          BIGINT  NOT NULL REFERENCES projects(id),
    version             TEXT    NOT NULL,
    prerelease          BIGINT  NOT NULL,
    released_at         BIGINT,
    created_at          BIGINT  NOT NULL,
    last_attested_at    BIGINT  NOT NULL,
    UNIQUE (project_id, version)
);

CREATE TABLE workflows (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id              BIGINT  NOT NULL REFERENCES orgs(id),
    project_id          BIGINT  NOT NULL REFERENCES projects(id),
    name                TEXT    NOT NULL,
    contract            TEXT,
    contract_explicit   BIGINT  NOT NULL DEFAULT 0,
    created_at          BIGINT  NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE attestations (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id              BIGINT  NOT NULL REFERENCES orgs(id),
    digest              TEXT    NOT NULL,
    project_version_id  BIGINT  NOT NULL REFERENCES project_versions(id),
    workflow_id         BIGINT  REFERENCES workflows(id),
    contract            TEXT,
    finished_at         BIGINT  NOT NULL,
    received_at         BIGINT  NOT NULL,
    signer              TEXT    NOT NULL,
    verified            BIGINT  NOT NULL,
    envelope            TEXT    NOT NULL,
    UNIQUE (org_id, digest)
);
CREATE INDEX attestations_by_version ON attestations (project_version_id, finished_at);

CREATE TABLE evaluations (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id              BIGINT  NOT NULL REFERENCES orgs(id),
    attestation_id      BIGINT  NOT NULL REFERENCES attestations(id),
    project_version_id  BIGINT  NOT NULL REFERENCES project_versions(id),
    policy              TEXT    NOT NULL,
    policy_ref          TEXT    NOT NULL,
    policy_digest       TEXT,
    material            TEXT,
    material_type       TEXT,
    args                TEXT    NOT NULL,
    violations          TEXT    NOT NULL,
    violation_count     BIGINT  NOT NULL,
    skipped             BIGINT  NOT NULL,
    skip_reasons        TEXT    NOT NULL,
    requirements        TEXT    NOT NULL,
    gate                BIGINT  NOT NULL,
    time_ms             BIGINT  NOT NULL
);
-- Status reads one project version's evaluations of the requirement's policies.
CREATE INDEX evaluations_by_policy ON evaluations (project_version_id, policy, time_ms);
CREATE INDEX evaluations_by_attestation ON evaluations (attestation_id);

CREATE TABLE blobs (
    org_id      BIGINT  NOT NULL REFERENCES orgs(id),
    digest      TEXT    NOT NULL,
    size        BIGINT  NOT NULL,
    content     BLOB NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (org_id, digest)
);

CREATE TABLE proofs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id              BIGINT  NOT NULL REFERENCES orgs(id),
    product             TEXT    NOT NULL,
    product_version     TEXT    NOT NULL,
    project             TEXT,
    requirement         TEXT    NOT NULL,
    proof               TEXT    NOT NULL,
    kind                TEXT    NOT NULL,
    value               TEXT    NOT NULL,
    collected_at        BIGINT  NOT NULL,
    created_at          BIGINT  NOT NULL,
    submitter           TEXT    NOT NULL
);
CREATE INDEX proofs_by_cell ON proofs (org_id, product, product_version, requirement);

-- Exceptions and overrides: at most one active per cell; ending one sets ended_at.
CREATE TABLE decisions (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id              BIGINT  NOT NULL REFERENCES orgs(id),
    kind                TEXT    NOT NULL,
    product             TEXT    NOT NULL,
    product_version     TEXT    NOT NULL,
    project             TEXT,
    requirement         TEXT    NOT NULL,
    forced_status       TEXT,
    reason              TEXT    NOT NULL,
    author              TEXT    NOT NULL,
    created_at          BIGINT  NOT NULL,
    expires_at          BIGINT,
    ended_at            BIGINT
);
CREATE INDEX decisions_by_product ON decisions (org_id, product, product_version);
