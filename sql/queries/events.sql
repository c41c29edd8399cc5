-- name: event_by_id
SELECT * FROM events_view WHERE id = $1;

-- name: count_events
-- $1 status, $2 location, $3 search words (each must appear in the name or the description).
SELECT count(*) FROM events e
WHERE ($1::text IS NULL OR e.status = $1)
  AND ($2::text IS NULL OR e.location = $2)
  AND ($3::text[] IS NULL OR NOT EXISTS (
        SELECT 1 FROM unnest($3::text[]) AS word
        WHERE strpos(lower(e.name), lower(word)) = 0
          AND strpos(lower(e.description), lower(word)) = 0));

-- name: list_events
-- {order_by} is filled only from a fixed list of columns (server/events.py), never from input.
SELECT * FROM events_view e
WHERE ($1::text IS NULL OR e.status = $1)
  AND ($2::text IS NULL OR e.location = $2)
  AND ($3::text[] IS NULL OR NOT EXISTS (
        SELECT 1 FROM unnest($3::text[]) AS word
        WHERE strpos(lower(e.name), lower(word)) = 0
          AND strpos(lower(e.description), lower(word)) = 0))
ORDER BY {order_by}
LIMIT $4 OFFSET $5;

-- name: insert_event
INSERT INTO events (organizer_id, name, description, location, start_time, end_time, total_capacity, status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id;

-- name: lock_event
-- Every change to an event or its ticket types takes this lock first, then the ticket types'
-- in id order: the same order as the booking actor, so they never deadlock.
SELECT * FROM events WHERE id = $1
FOR UPDATE;

-- name: update_event
UPDATE events
SET name = $2, description = $3, location = $4, start_time = $5, end_time = $6,
    total_capacity = $7, status = $8, updated_at = now(), seq = seq + 1
WHERE id = $1;

-- name: bump_event_seq
UPDATE events SET seq = seq + 1 WHERE id = $1;

-- name: event_has_bookings
SELECT EXISTS (SELECT 1 FROM bookings WHERE event_id = $1);

-- name: delete_event
DELETE FROM events WHERE id = $1;

-- name: lock_ticket_types
SELECT id FROM ticket_types WHERE event_id = $1 ORDER BY id FOR UPDATE;

-- name: cancel_event_bookings
-- The event's confirmed bookings are cancelled and their tickets given back, in one statement.
WITH cancelled AS (
    UPDATE bookings SET status = 'cancelled', cancelled_at = now(), updated_at = now()
    WHERE event_id = $1 AND status = 'confirmed'
    RETURNING id
), released AS (
    SELECT i.ticket_type_id, sum(i.quantity)::integer AS quantity
    FROM booking_items i JOIN cancelled c ON c.id = i.booking_id
    GROUP BY i.ticket_type_id
), types AS (
    UPDATE ticket_types t
    SET quantity_available = t.quantity_available + r.quantity,
        quantity_sold = t.quantity_sold - r.quantity,
        updated_at = now()
    FROM released r WHERE t.id = r.ticket_type_id
    RETURNING r.quantity
)
UPDATE events SET tickets_sold = tickets_sold - COALESCE((SELECT sum(quantity) FROM types), 0)
WHERE id = $1
RETURNING (SELECT count(*) FROM cancelled) AS bookings_cancelled;

-- name: enqueue_event_cancellation_mails
-- A mail to the owner of each booking cancel_event_bookings just cancelled (this transaction's
-- now() is their cancelled_at); $3 is the body with a {reference} placeholder.
INSERT INTO outbox (recipient, subject, body)
SELECT u.email, $2, replace($3, '{reference}', b.booking_reference::text)
FROM bookings b JOIN users u ON u.id = b.user_id
WHERE b.event_id = $1 AND b.status = 'cancelled' AND b.cancelled_at = now()
ORDER BY b.id;

-- name: deactivate_ticket_types
UPDATE ticket_types SET is_active = false, updated_at = now() WHERE event_id = $1 AND is_active;
