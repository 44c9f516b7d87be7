-- The instance's own signing keys (decision 0030): generated at first use, shared by
-- every server on the database, so a pack signed by any of them verifies with the key
-- `GET /api/v1/report-key` publishes. The private key is kept because the server signs.
CREATE TABLE instance_keys (
    name         TEXT    PRIMARY KEY,
    algorithm    TEXT    NOT NULL,
    private_pem  TEXT    NOT NULL,
    public_pem   TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL
);
