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
INSERT INTO events (organizer_id, name, description, location, start_time, end_time,
                    total_capacity, status, hold_seconds, max_tickets_per_booking,
                    max_tickets_per_customer, sales_start, sales_end, waitlist_offer_seconds)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
RETURNING id;

-- name: event_organizer
SELECT organizer_id FROM events WHERE id = $1;

-- name: lock_event
-- Every change to an event or its ticket types takes this lock first, then the ticket types'
-- in id order: the same order as the booking actor, so they never deadlock.
SELECT * FROM events WHERE id = $1
FOR UPDATE;

-- name: update_event
UPDATE events
SET name = $2, description = $3, location = $4, start_time = $5, end_time = $6,
    total_capacity = $7, status = $8, hold_seconds = $9, max_tickets_per_booking = $10,
    max_tickets_per_customer = $11, sales_start = $12, sales_end = $13,
    waitlist_offer_seconds = $14, updated_at = now()
WHERE id = $1;

-- name: set_event_status
UPDATE events SET status = $2, updated_at = now() WHERE id = $1;

-- name: touch_event
-- After any change to an event or its ticket types: a new version for live subscribers, and
-- its next sales-window boundary afresh (its actor or the sweeper publishes it when it passes).
-- While its waiting list has entries or kept seats, that boundary is now: the change may have
-- freed seats to offer, or closed a list, and the actor settles it at once.
UPDATE events
SET seq = seq + 1,
    next_transition_at = CASE
        WHEN EXISTS (SELECT 1 FROM ticket_types
                     WHERE event_id = $1 AND (waiting > 0 OR quantity_kept > 0)) THEN now()
        ELSE next_sales_transition($1)
    END
WHERE id = $1
RETURNING next_transition_at <= now() AS settle;

-- name: event_has_bookings
SELECT EXISTS (SELECT 1 FROM bookings WHERE event_id = $1);

-- name: delete_event
DELETE FROM events WHERE id = $1;

-- name: lock_ticket_types
SELECT id FROM ticket_types WHERE event_id = $1 ORDER BY id FOR UPDATE;

-- name: cancel_event_bookings
-- The event's confirmed bookings and pending holds are cancelled and their tickets given back
-- (sold ones, held ones), and counted for the dashboard, in one statement.
WITH targets AS (
    SELECT id, status FROM bookings
    WHERE event_id = $1 AND status IN ('confirmed', 'pending')
    FOR UPDATE
), cancelled AS (
    UPDATE bookings b
    SET status = 'cancelled', cancelled_at = now(), updated_at = now(), expires_at = NULL
    FROM targets
    WHERE b.id = targets.id
    RETURNING b.id, targets.status AS was
), released AS (
    SELECT i.ticket_type_id,
           coalesce(sum(i.quantity) FILTER (WHERE c.was = 'confirmed'), 0)::integer AS sold,
           coalesce(sum(i.quantity) FILTER (WHERE c.was = 'pending'), 0)::integer AS held
    FROM booking_items i JOIN cancelled c ON c.id = i.booking_id
    GROUP BY i.ticket_type_id
), types AS (
    UPDATE ticket_types t
    SET quantity_available = t.quantity_available + r.sold + r.held,
        quantity_sold = t.quantity_sold - r.sold,
        quantity_held = t.quantity_held - r.held,
        updated_at = now()
    FROM released r WHERE t.id = r.ticket_type_id
    RETURNING r.sold, r.held
), minutes AS (
    INSERT INTO booking_minutes (event_id, minute, cancellations)
    SELECT $1, date_trunc('minute', now()), count(*) FROM cancelled HAVING count(*) > 0
    ON CONFLICT (event_id, minute) DO UPDATE
    SET cancellations = booking_minutes.cancellations + excluded.cancellations
)
UPDATE events
SET tickets_sold = tickets_sold - coalesce((SELECT sum(sold) FROM types), 0),
    tickets_held = tickets_held - coalesce((SELECT sum(held) FROM types), 0)
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
