-- Evaluations of one project version and policy that count as different candidates
-- (other policy digest, arguments, explicit requirements, or skipped) form a series. A
-- status reads each series' newest evaluation and only the last SLA's worth of the
-- rest, by seeking `evaluations_by_series` (docs/decisions/0016).
CREATE TABLE evaluation_series (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id              BIGINT  NOT NULL REFERENCES orgs(id),
    project_version_id  BIGINT  NOT NULL REFERENCES project_versions(id),
    policy              TEXT    NOT NULL,
    -- policy digest, arguments, explicit requirements and skipped, space-separated
    -- (ingestion writes the same text)
    config              TEXT    NOT NULL,
    UNIQUE (project_version_id, policy, config)
);
INSERT INTO evaluation_series (org_id, project_version_id, policy, config)
    SELECT DISTINCT org_id, project_version_id, policy,
        COALESCE(policy_digest, '') || ' ' || args || ' ' || requirements || ' ' || skipped
    FROM evaluations;
-- Always set; nullable only because a column added to existing rows must start so.
ALTER TABLE evaluations ADD COLUMN series_id BIGINT;
UPDATE evaluations SET series_id = (SELECT s.id FROM evaluation_series s
    WHERE s.project_version_id = evaluations.project_version_id
      AND s.policy = evaluations.policy
      AND s.config = COALESCE(evaluations.policy_digest, '') || ' ' || evaluations.args
          || ' ' || evaluations.requirements || ' ' || evaluations.skipped);
CREATE INDEX evaluations_by_series ON evaluations (series_id, time_ms);
DROP INDEX evaluations_by_policy;

-- How many attestations each project version holds and the latest instant its
-- evidence carries (finished or received): what overview rows are keyed by, kept at
-- ingestion instead of grouped from every attestation on each read. A count, not the
-- newest id: concurrent ingestions may commit ids out of order, every commit adds one.
ALTER TABLE project_versions ADD COLUMN attestation_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE project_versions ADD COLUMN evidence_at BIGINT NOT NULL DEFAULT 0;
UPDATE project_versions SET
    attestation_count = (SELECT COUNT(*) FROM attestations a
        WHERE a.project_version_id = project_versions.id),
    evidence_at = COALESCE((SELECT MAX(CASE WHEN a.finished_at > a.received_at
        THEN a.finished_at ELSE a.received_at END) FROM attestations a
        WHERE a.project_version_id = project_versions.id), 0);
