-- Deletions as events, so a past instant can be read as it was: a resource's revisions
-- stay when it is deleted, and this row says which revision ended when.
CREATE TABLE resource_deletions (
    org_id      BIGINT  NOT NULL REFERENCES orgs(id),
    kind        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    revision    BIGINT  NOT NULL,
    deleted_at  BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    PRIMARY KEY (org_id, kind, name, revision)
);
-- Lifecycle events (requirement.activate / deactivate) are read by action.
CREATE INDEX audit_by_action ON audit_events (org_id, action, time_ms);
