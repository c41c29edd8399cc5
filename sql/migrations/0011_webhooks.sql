-- Organizers' webhooks and their deliveries: a delivery is written in the transaction of the
-- change it reports (the webhook outbox), then posted by a background sender, retried with
-- back-off until it gets a 2xx or its retry window ends.

CREATE TABLE webhooks (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organizer_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id     bigint REFERENCES events (id) ON DELETE CASCADE,  -- null: all their events
    url          text NOT NULL,
    events       text[] NOT NULL CHECK (cardinality(events) >= 1),
    secret       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
-- The booking transaction asks "does this event's organizer have webhooks?" under its lock.
CREATE INDEX webhooks_organizer_idx ON webhooks (organizer_id);

CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id     uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,  -- the same on every retry
    webhook_id      bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    type            text NOT NULL,
    data            jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    status_code     integer,  -- of the last attempt; null when it got no answer
    last_error      text,
    delivered_at    timestamptz,
    abandoned_at    timestamptz  -- its retry window ended undelivered
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND abandoned_at IS NULL;
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, id DESC);
-- The purge: delivered (or abandoned) deliveries past the outbox retention.
CREATE INDEX webhook_deliveries_done_idx ON webhook_deliveries (created_at)
    WHERE delivered_at IS NOT NULL OR abandoned_at IS NOT NULL;

-- One attempt's result, as the sender settles a round.
CREATE TYPE webhook_result AS (
    id        bigint,
    delivered boolean,
    status    integer,
    error     text,
    delay     float8
);
