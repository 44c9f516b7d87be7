-- Attestations whose policy evaluations Chainloop keeps in its artifact store: the
-- predicate's `policyEvaluationsRef` (JSON: name, digest, media_type) and when the
-- bundle it names was supplied (NULL while it is not). Status explanations read the
-- attestations of a project version whose evaluations are still missing, through the
-- partial index (docs/decisions/0025 and issue 13).
ALTER TABLE attestations ADD COLUMN evaluations_ref TEXT;
ALTER TABLE attestations ADD COLUMN evaluations_supplied_at BIGINT;
CREATE INDEX attestations_referencing_evaluations ON attestations (project_version_id)
    WHERE evaluations_ref IS NOT NULL;
-- When an evaluation was stored, if later than its attestation (supplied afterwards);
-- NULL: with its attestation. Evidence counts at `t` only once it had arrived.
ALTER TABLE evaluations ADD COLUMN received_at BIGINT;
-- The hosts `http.send` could reach when the evaluation ran (comma-separated); NULL:
-- sealed, deterministic (docs/decisions/0025).
ALTER TABLE evaluations ADD COLUMN networked TEXT;
