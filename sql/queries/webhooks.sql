-- name: create_webhook
INSERT INTO webhooks (organizer_id, event_id, url, events, secret)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, url, events, event_id, secret, created_at;

-- name: organizer_webhooks
SELECT count(*) OVER () AS total, id, url, events, event_id, created_at
FROM webhooks WHERE organizer_id = $1
ORDER BY id
LIMIT $2 OFFSET $3;

-- name: webhook_owner
SELECT organizer_id FROM webhooks WHERE id = $1;

-- name: delete_webhook
DELETE FROM webhooks WHERE id = $1;

-- name: webhook_delivery_log
SELECT count(*) OVER () AS total, delivery_id::text, type, status_code, attempts, delivered_at,
       created_at,
       CASE WHEN delivered_at IS NULL AND abandoned_at IS NULL THEN next_attempt_at END
           AS next_attempt_at,
       abandoned_at, last_error
FROM webhook_deliveries WHERE webhook_id = $1
ORDER BY id DESC
LIMIT $2 OFFSET $3;

-- name: enqueue_event_cancellation_hooks
-- A booking.cancelled delivery for each booking cancel_event_bookings just cancelled (this
-- transaction's: cancelled_at is its now()), to the organizer's webhooks that want it; the data
-- as the booking transaction writes it (server/webhooks/payloads.py).
INSERT INTO webhook_deliveries (webhook_id, type, data)
SELECT w.id, 'booking.cancelled',
       jsonb_build_object(
           'booking_reference', b.booking_reference, 'event_id', b.event_id,
           'user_id', b.user_id, 'status', 'cancelled',
           'total_price', b.total_price::text,
           'expires_at', NULL,
           'items', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                         'ticket_type_id', i.ticket_type_id, 'ticket_type_name', t.name,
                         'quantity', i.quantity,
                         'price_at_booking', i.price_at_booking::text)
                         ORDER BY i.ticket_type_id), '[]')
                     FROM booking_items i JOIN ticket_types t ON t.id = i.ticket_type_id
                     WHERE i.booking_id = b.id))
FROM bookings b
JOIN events e ON e.id = b.event_id
JOIN webhooks w ON w.organizer_id = e.organizer_id
               AND (w.event_id IS NULL OR w.event_id = e.id)
               AND 'booking.cancelled' = ANY (w.events)
WHERE b.event_id = $1 AND b.status = 'cancelled' AND b.cancelled_at = now();

-- name: claim_due_webhooks
-- As claim_due_mail: a lease taken in a transaction of its own, SKIP LOCKED between
-- instances; the posts go out with no transaction open.
UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $2)
FROM webhooks w
WHERE w.id = d.webhook_id AND d.id IN (
    SELECT id FROM webhook_deliveries
    WHERE delivered_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= now()
    ORDER BY id
    LIMIT $1
    FOR UPDATE SKIP LOCKED)
RETURNING d.id, d.delivery_id, d.type, d.data::text AS data, d.created_at, d.attempts,
          w.url, w.secret;

-- name: settle_webhooks
-- A round's results in one statement: delivered (a 2xx), or due again after its back-off
-- (seconds), or abandoned once its retry window ($2 hours from its creation) is over.
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1,
    status_code = r.status,
    last_error = r.error,
    delivered_at = CASE WHEN r.delivered THEN now() END,
    abandoned_at = CASE WHEN NOT r.delivered
                         AND d.created_at + make_interval(hours => $2) < now() THEN now() END,
    next_attempt_at = CASE WHEN r.delivered THEN d.next_attempt_at
                           ELSE now() + make_interval(secs => r.delay) END
FROM unnest($1::webhook_result[]) AS r
WHERE d.id = r.id;

-- name: release_webhooks
-- Claimed deliveries a stopping sender did not settle: due again at once.
UPDATE webhook_deliveries SET next_attempt_at = now()
WHERE id = ANY ($1::bigint[]) AND delivered_at IS NULL;

-- name: outbox_backlog
-- For /metrics: the outbox's undelivered rows and the oldest one's age, mail and webhooks.
SELECT 'mail' AS kind, count(*) AS backlog,
       coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest
FROM outbox WHERE sent_at IS NULL
UNION ALL
SELECT 'webhook', count(*),
       coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
FROM webhook_deliveries WHERE delivered_at IS NULL AND abandoned_at IS NULL;
