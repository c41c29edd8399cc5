-- Idempotency-Key for POST /api/bookings/: one row per (user, key) for 24 hours. The primary
-- key makes a second booking under the same key impossible, even from another instance.
CREATE TABLE idempotency_keys (
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          varchar(255) NOT NULL,
    request_hash bytea NOT NULL,
    booking_id   bigint REFERENCES bookings (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
