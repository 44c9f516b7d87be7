-- Four-eyes approval of exceptions and overrides: a decision recorded while the org
-- requires approval waits (needs_approval = 1, approved_at NULL) until a second admin
-- or owner approves it; it takes effect from approved_at.
ALTER TABLE decisions ADD COLUMN needs_approval BIGINT NOT NULL DEFAULT 0;
ALTER TABLE decisions ADD COLUMN approved_by TEXT;
ALTER TABLE decisions ADD COLUMN approved_at BIGINT;
