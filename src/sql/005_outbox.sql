-- 005 outbox and webhooks (issue 4 item 8): notifications leave whistle
-- only through this outbox. outbox_emit() writes an event in the same
-- transaction as the state change; the webhook worker fans each event out
-- to the matching webhooks (one delivery row per webhook and event) and
-- delivers with retries and exponential backoff, dead-lettering after N
-- attempts.

-- One row per event. event_id is random and globally unique: receivers
-- deduplicate on it (header X-Whistle-Event-Id).
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    event_id    TEXT NOT NULL UNIQUE,
    event       TEXT NOT NULL,              -- "order.signed", "supervision.issued"
    object_type TEXT NOT NULL,
    object_id   TEXT,
    payload     TEXT NOT NULL,              -- JSON object
    created_at  TEXT NOT NULL,              -- RFC 3339 UTC
    fanned_out  INTEGER NOT NULL DEFAULT 0  -- 1 once deliveries exist for it
);
-- The worker's queue: only the events not yet fanned out are indexed.
CREATE INDEX outbox_pending ON outbox (id) WHERE fanned_out = 0;
CREATE INDEX outbox_object ON outbox (object_type, object_id, id);

-- Webhooks configured by administrators. events: JSON array of patterns
-- ("*", "order.*", "supervision.issued"). The secret signs every delivery
-- (HMAC-SHA256); it is needed in clear to sign, so it is stored as given
-- and never returned by the API after creation. since_outbox_id: events up
-- to this id existed before the webhook and are not sent to it.
CREATE TABLE webhooks (
    id               INTEGER PRIMARY KEY,
    url              TEXT NOT NULL,
    secret           TEXT NOT NULL,
    events           TEXT NOT NULL DEFAULT '["*"]',
    description      TEXT,
    max_attempts     INTEGER,             -- NULL: setting webhook.max_attempts
    backoff_ms       INTEGER,             -- NULL: setting webhook.backoff_ms
    since_outbox_id  INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    created_by       INTEGER,
    deleted_at       TEXT
);

-- One row per (webhook, event). state: pending → delivered | dead
-- (dead letter, visible to administrators, can be retried) | cancelled
-- (webhook deleted). next_at_ms: when the next attempt is due (clock_now_ms).
CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY,
    webhook_id   INTEGER NOT NULL REFERENCES webhooks (id),
    outbox_id    INTEGER NOT NULL REFERENCES outbox (id),
    state        TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at_ms   INTEGER NOT NULL,
    last_status  INTEGER,                 -- HTTP status of the last attempt
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    delivered_at TEXT,
    UNIQUE (webhook_id, outbox_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at_ms) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_state ON webhook_deliveries (state, id);
