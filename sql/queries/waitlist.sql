-- name: lock_waitlist_entries
-- The entries a batch works on (those left, those whose offers it settles), with their offers.
SELECT w.id, w.user_id, w.ticket_type_id, w.quantity, w.status, b.booking_reference,
       b.expires_at
FROM waitlist_entries w LEFT JOIN bookings b ON b.id = w.booking_id
WHERE w.event_id = $1 AND w.id = ANY($2::bigint[])
ORDER BY w.id
FOR UPDATE OF w;

-- name: live_waitlist_entries
-- Which of these users already have a live entry (waiting or offered), and for which type.
SELECT user_id, ticket_type_id FROM waitlist_entries
WHERE event_id = $1 AND user_id = ANY($2::bigint[]) AND status IN ('waiting', 'offered');

-- name: waiting_entries
-- A type's waiting entries in joining order, after entry $3, of at most $2 tickets each.
SELECT id, user_id, ticket_type_id, quantity, status
FROM waitlist_entries
WHERE ticket_type_id = $1 AND status = 'waiting' AND quantity <= $2 AND id > $3
ORDER BY id
LIMIT $4
FOR UPDATE;

-- name: waitlist_entry_event
-- Which event (and so which actor) a user's entry belongs to; read without locks.
SELECT event_id FROM waitlist_entries WHERE id = $1 AND user_id = $2 AND status <> 'left';

-- name: waitlist_entries_detail
-- Entries as the API shows them; position: 1-based among the type's waiting entries.
SELECT w.id, w.event_id, e.name AS event_name, w.ticket_type_id, t.name AS ticket_type_name,
       w.quantity, w.status, w.created_at, w.updated_at, b.booking_reference, b.expires_at,
       CASE WHEN w.status = 'waiting' THEN
           (SELECT count(*) FROM waitlist_entries o
            WHERE o.ticket_type_id = w.ticket_type_id AND o.status = 'waiting' AND o.id <= w.id)
       END AS position
FROM waitlist_entries w
JOIN events e ON e.id = w.event_id
JOIN ticket_types t ON t.id = w.ticket_type_id
LEFT JOIN bookings b ON b.id = w.booking_id
WHERE w.id = ANY($1::bigint[]);

-- name: count_user_waitlist
SELECT count(*) FROM waitlist_entries
WHERE user_id = $1 AND status <> 'left' AND ($2::text IS NULL OR status = $2);

-- name: user_waitlist_ids
SELECT id FROM waitlist_entries
WHERE user_id = $1 AND status <> 'left' AND ($2::text IS NULL OR status = $2)
ORDER BY id DESC
LIMIT $3 OFFSET $4;

-- name: close_event_waitlist
-- The event is cancelled: its live entries close (their users are mailed: $2 the subject, $3
-- the body with a {ticket_type} placeholder), and nothing is kept back for them any more. Run
-- after cancel_event_bookings, under the event's lock.
WITH closed AS (
    UPDATE waitlist_entries SET status = 'closed', updated_at = now()
    WHERE event_id = $1 AND status IN ('waiting', 'offered')
    RETURNING id, user_id, ticket_type_id
), types AS (
    UPDATE ticket_types
    SET quantity_available = quantity_available + quantity_kept,
        quantity_held = quantity_held - quantity_kept, quantity_kept = 0, waiting = 0
    WHERE event_id = $1 AND (quantity_kept > 0 OR waiting > 0)
), event AS (
    UPDATE events SET tickets_held = tickets_held - tickets_kept, tickets_kept = 0
    WHERE id = $1
)
INSERT INTO outbox (recipient, subject, body)
SELECT u.email, $2, replace($3, '{ticket_type}', t.name)
FROM closed c
JOIN users u ON u.id = c.user_id
JOIN ticket_types t ON t.id = c.ticket_type_id
ORDER BY c.id;
