-- name: lock_event_for_booking
-- The batch's locks in one round trip: the event row first (the ticket types' CTE needs it),
-- then its ticket types in id order. now() is the transaction's timestamp: it marks what this
-- batch wrote. An event without ticket types comes back as one row with null type columns.
WITH event AS (
    SELECT id, name, status, start_time, total_capacity, tickets_sold, seq,
           now() AS stamp
    FROM events WHERE id = $1
    FOR UPDATE
), types AS (
    SELECT id, name, price, quantity_available, quantity_sold, is_active
    FROM ticket_types
    WHERE event_id = $1 AND EXISTS (SELECT 1 FROM event)
    ORDER BY id
    FOR UPDATE
)
SELECT event.*, types.id AS type_id, types.name AS type_name, types.price,
       types.quantity_available, types.quantity_sold, types.is_active
FROM event LEFT JOIN types ON true
ORDER BY types.id;

-- name: lock_late_ticket_types
-- The event's ticket types added by a transaction that lock_event_for_booking waited for: its
-- snapshot, taken before the wait, did not show them; they are committed now.
SELECT id, name, price, quantity_available, quantity_sold, is_active
FROM ticket_types WHERE id = ANY($1::bigint[]) AND event_id = $2
ORDER BY id
FOR UPDATE;

-- name: ticket_types_elsewhere
-- Those of the ids that exist (when the event's own are known: those of other events).
SELECT id FROM ticket_types WHERE id = ANY($1::bigint[]);

-- name: lock_bookings_to_cancel
SELECT id, booking_reference, user_id, status
FROM bookings WHERE booking_reference = ANY($1::uuid[]) AND event_id = $2
ORDER BY id
FOR UPDATE;

-- name: booking_items_of
SELECT booking_id, ticket_type_id, quantity FROM booking_items WHERE booking_id = ANY($1::bigint[]);

-- name: apply_batch
-- Everything a batch writes, in one statement: new bookings and their items, cancellations,
-- the ticket types' and the event's new counts (computed under this transaction's locks),
-- the Idempotency-Keys' bookings, and a mail to each booking's owner in the outbox, committed
-- (or not) with the booking. $2.. are lists of the typed rows of migration 0006.
WITH new_bookings AS (
    INSERT INTO bookings (booking_reference, user_id, event_id, total_price)
    SELECT b.reference, b.user_id, $1, b.total FROM unnest($2::batch_booking[]) AS b
    RETURNING id, booking_reference
), new_items AS (
    INSERT INTO booking_items (booking_id, ticket_type_id, quantity, price_at_booking)
    SELECT nb.id, i.ticket_type_id, i.quantity, i.price
    FROM unnest($3::batch_item[]) WITH ORDINALITY AS i(reference, ticket_type_id, quantity, price, n)
    JOIN new_bookings nb ON nb.booking_reference = i.reference
    ORDER BY i.n
    RETURNING id
), cancelled AS (
    UPDATE bookings SET status = 'cancelled', cancelled_at = now(), updated_at = now()
    WHERE id = ANY($4::bigint[])
), counts AS (
    UPDATE ticket_types t
    SET quantity_available = c.available, quantity_sold = c.sold, updated_at = now()
    FROM unnest($5::batch_count[]) AS c
    WHERE t.id = c.ticket_type_id
), keys AS (
    UPDATE idempotency_keys k SET booking_id = nb.id
    FROM unnest($6::batch_key[]) AS ik
    JOIN new_bookings nb ON nb.booking_reference = ik.reference
    WHERE k.user_id = ik.user_id AND k.key = ik.key
), mails AS (
    INSERT INTO outbox (recipient, subject, body)
    SELECT u.email, m.subject, m.body
    FROM unnest($7::batch_mail[]) WITH ORDINALITY AS m(user_id, subject, body, n)
    JOIN users u ON u.id = m.user_id
    ORDER BY m.n
)
UPDATE events SET tickets_sold = $8, seq = seq + 1
WHERE id = $1
-- The new items' ids in the order of $3 (identity values follow the insert's ORDER BY).
RETURNING seq, ARRAY(SELECT id FROM new_items ORDER BY id) AS item_ids;

-- name: batch_committed
-- After an ambiguous failure: did the batch stamped $3 commit? (Its bookings or cancellations.)
SELECT EXISTS (SELECT 1 FROM bookings WHERE booking_reference = ANY($1::uuid[]))
    OR EXISTS (SELECT 1 FROM bookings WHERE id = ANY($2::bigint[]) AND cancelled_at = $3);

-- name: claim_idempotency_key
-- The key is this command's when it is new, or when the stored one is older than 24 hours:
-- then it is taken over in place (a DELETE in a CTE would not do: the INSERT's snapshot still
-- sees the row and conflicts). A racing copy waits here for the first to commit, then conflicts.
INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3)
ON CONFLICT (user_id, key) DO UPDATE
SET request_hash = excluded.request_hash, booking_id = NULL, created_at = now()
WHERE idempotency_keys.created_at < now() - interval '24 hours'
RETURNING true;

-- name: idempotency_key_owner
SELECT k.request_hash, b.booking_reference
FROM idempotency_keys k LEFT JOIN bookings b ON b.id = k.booking_id
WHERE k.user_id = $1 AND k.key = $2;

-- name: release_idempotency_key
DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND booking_id IS NULL;

-- name: booking_event
-- Which event (and so which actor) a user's booking belongs to; immutable, read without locks.
SELECT event_id FROM bookings WHERE booking_reference = $1 AND user_id = $2;

-- name: booking_details
SELECT b.id, b.booking_reference, b.user_id, b.event_id, e.name AS event_name, b.status, b.created_at,
       b.updated_at, b.cancelled_at, b.total_price, u.username
FROM bookings b
JOIN events e ON e.id = b.event_id
JOIN users u ON u.id = b.user_id
WHERE b.booking_reference = ANY($1::uuid[]);

-- name: booking_items_detail
SELECT i.booking_id, i.id, t.name AS ticket_type_name, i.quantity, i.price_at_booking
FROM booking_items i JOIN ticket_types t ON t.id = i.ticket_type_id
WHERE i.booking_id = ANY($1::bigint[])
ORDER BY t.name, i.id;

-- name: count_user_bookings
SELECT count(*) FROM bookings b
WHERE b.user_id = $1
  AND ($2::text IS NULL OR b.status = $2)
  AND ($3::bigint IS NULL OR b.event_id = $3)
  AND ($4::timestamptz IS NULL OR b.created_at >= $4)
  AND ($5::timestamptz IS NULL OR b.created_at <= $5);

-- name: user_booking_references
SELECT b.booking_reference FROM bookings b
WHERE b.user_id = $1
  AND ($2::text IS NULL OR b.status = $2)
  AND ($3::bigint IS NULL OR b.event_id = $3)
  AND ($4::timestamptz IS NULL OR b.created_at >= $4)
  AND ($5::timestamptz IS NULL OR b.created_at <= $5)
ORDER BY b.created_at DESC, b.id DESC
LIMIT $6 OFFSET $7;

-- name: count_event_bookings
SELECT count(*) FROM bookings WHERE event_id = $1 AND ($2::text IS NULL OR status = $2);

-- name: event_booking_references
SELECT booking_reference FROM bookings
WHERE event_id = $1 AND ($2::text IS NULL OR status = $2)
ORDER BY created_at DESC, id DESC
LIMIT $3 OFFSET $4;
