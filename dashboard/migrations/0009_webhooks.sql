-- Webhooks (issue 15): subscriptions, and one delivery row per event and subscription,
-- written in the transaction of the change it reports and numbered per subscription (by the
-- `webhook:<id>` counter) so that they go out in order. The signing secret is sealed under a
-- key derived from the issuer key. The same SQL runs on SQLite and PostgreSQL.
CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,          -- comma-separated event kinds
    sites       TEXT NOT NULL,          -- comma-separated site ids, or '*'
    secret      TEXT NOT NULL,          -- hex(nonce || ChaCha20-Poly1305 of the secret)
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    disabled_at BIGINT
);
CREATE TABLE webhook_deliveries (
    id           TEXT PRIMARY KEY,      -- also Bygd-Delivery, for the receiver's idempotency
    webhook      TEXT NOT NULL,
    seq          BIGINT NOT NULL,       -- order within the subscription
    kind         TEXT NOT NULL,
    body         TEXT NOT NULL,         -- the JSON posted
    created_at   BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    next_try_at  BIGINT NOT NULL,       -- also the lease of a sender that took it
    last_error   TEXT,
    delivered_at BIGINT,
    gave_up_at   BIGINT,
    UNIQUE (webhook, seq)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook, delivered_at, gave_up_at, seq);
