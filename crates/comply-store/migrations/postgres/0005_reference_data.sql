-- Reference data policies read (`data.kev`: the CISA KEV catalog), one current
-- catalog per kind and org; org 0 holds the instance's (the snapshot shipped with the
-- binary). Each import replaces the org's catalog; imports are in the audit log.
CREATE TABLE reference_data (
    org_id       BIGINT  NOT NULL,
    kind         TEXT    NOT NULL,
    -- the publisher's version label (KEV: catalogVersion) and release time
    version      TEXT    NOT NULL,
    released_at  BIGINT  NOT NULL,
    entries      BIGINT  NOT NULL,
    source       TEXT    NOT NULL,
    digest       TEXT    NOT NULL,
    content      TEXT    NOT NULL,
    imported_at  BIGINT  NOT NULL,
    PRIMARY KEY (org_id, kind)
);
