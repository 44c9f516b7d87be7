-- Org-level webhooks delivered from a durable outbox (decision 0037).
-- The secret is kept as is: the server signs every delivery with it (HMAC-SHA256), so
-- it must be recoverable; it is shown once at creation and never listed.
CREATE TABLE webhooks (
    id               TEXT    PRIMARY KEY,
    org_id           BIGINT  NOT NULL,
    url              TEXT    NOT NULL,
    events           TEXT    NOT NULL,
    horizon_ms       BIGINT  NOT NULL,
    secret           TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    created_by       TEXT    NOT NULL,
    failures         BIGINT  NOT NULL DEFAULT 0,
    disabled_at      BIGINT,
    disabled_reason  TEXT
);
CREATE INDEX webhooks_by_org ON webhooks (org_id);

-- Each event once per org: the dedupe key is unique, so two servers that detect the
-- same change insert it once.
CREATE TABLE outbox_events (
    id          TEXT    PRIMARY KEY,
    org_id      BIGINT  NOT NULL,
    kind        TEXT    NOT NULL,
    dedupe_key  TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    UNIQUE (org_id, dedupe_key)
);

-- One row per event and webhook: the delivery's state, its attempts and its lease.
CREATE TABLE webhook_deliveries (
    id               TEXT    PRIMARY KEY,
    event_id         TEXT    NOT NULL,
    webhook_id       TEXT    NOT NULL,
    org_id           BIGINT  NOT NULL,
    state            TEXT    NOT NULL,
    attempts         BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT  NOT NULL,
    lease_owner      TEXT,
    lease_until      BIGINT,
    last_status      BIGINT,
    last_error       TEXT,
    last_attempt_at  BIGINT,
    delivered_at     BIGINT,
    created_at       BIGINT  NOT NULL,
    UNIQUE (event_id, webhook_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at);

-- What the watch last saw of an org (cells, compliance, coverage counts), moved
-- forward by compare-and-swap on the revision in the transaction that enqueues events.
CREATE TABLE webhook_watch (
    org_id      BIGINT  PRIMARY KEY,
    revision    BIGINT  NOT NULL,
    snapshot    TEXT    NOT NULL,
    updated_at  BIGINT  NOT NULL
);
