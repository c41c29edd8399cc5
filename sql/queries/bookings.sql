-- name: lock_event_for_booking
-- The batch's locks in one round trip: the event row first (the ticket types' CTE needs it),
-- then its ticket types in id order. now() is the transaction's timestamp: it marks what this
-- batch wrote. next_expiry: the earliest pending hold's end (due ones are expired first).
-- An event without ticket types comes back as one row with null type columns. Held counts
-- include the kept ones (migration 0008).
WITH event AS (
    SELECT id, name, status, start_time, total_capacity, tickets_sold, tickets_held,
           tickets_kept, seq, hold_seconds, waitlist_offer_seconds, max_tickets_per_booking,
           max_tickets_per_customer, sales_start, sales_end, next_transition_at, now() AS stamp,
           EXISTS (SELECT 1 FROM waiting_rooms r WHERE r.event_id = $1) AS waiting_room,
           EXISTS (SELECT 1 FROM webhooks w
                   WHERE w.organizer_id = events.organizer_id
                     AND (w.event_id IS NULL OR w.event_id = $1)) AS hooked,
           (SELECT min(b.expires_at) FROM bookings b
            WHERE b.event_id = $1 AND b.status = 'pending') AS next_expiry
    FROM events WHERE id = $1
    FOR UPDATE
), types AS (
    SELECT id, name, price, quantity_available, quantity_held, quantity_kept, quantity_sold,
           waiting, is_active, sales_start, sales_end
    FROM ticket_types
    WHERE event_id = $1 AND EXISTS (SELECT 1 FROM event)
    ORDER BY id
    FOR UPDATE
)
SELECT event.*, types.id AS type_id, types.name AS type_name, types.price,
       types.quantity_available, types.quantity_held, types.quantity_kept, types.quantity_sold,
       types.waiting, types.is_active, types.sales_start AS type_sales_start,
       types.sales_end AS type_sales_end
FROM event LEFT JOIN types ON true
ORDER BY types.id;

-- name: lock_late_ticket_types
-- The event's ticket types added by a transaction that lock_event_for_booking waited for: its
-- snapshot, taken before the wait, did not show them; they are committed now.
SELECT id, name, price, quantity_available, quantity_held, quantity_kept, quantity_sold,
       waiting, is_active, sales_start, sales_end
FROM ticket_types WHERE id = ANY($1::bigint[]) AND event_id = $2
ORDER BY id
FOR UPDATE;

-- name: ticket_types_elsewhere
-- Those of the ids that exist (when the event's own are known: those of other events).
SELECT id FROM ticket_types WHERE id = ANY($1::bigint[]);

-- name: lock_bookings
-- The bookings a batch works on: those its commands name ($2), and, with $3, the pending holds
-- whose time has run out; entry_id: the waiting-list entry a hold was offered to.
SELECT id, booking_reference, user_id, status, created_at, updated_at, expires_at,
       (SELECT w.id FROM waitlist_entries w WHERE w.booking_id = bookings.id) AS entry_id
FROM bookings
WHERE event_id = $1
  AND (booking_reference = ANY($2::uuid[])
       OR ($3 AND status = 'pending' AND expires_at <= now()))
ORDER BY id
FOR UPDATE;

-- name: booking_items_of
SELECT booking_id, id, ticket_type_id, quantity, price_at_booking
FROM booking_items WHERE booking_id = ANY($1::bigint[])
ORDER BY booking_id, id;

-- name: customer_tickets
-- The tickets each of these users has for the event, confirmed and pending (the limit per
-- customer counts both); read under the event's lock, so no racing booking is missed.
SELECT b.user_id, sum(i.quantity)::integer AS tickets
FROM bookings b JOIN booking_items i ON i.booking_id = b.id
WHERE b.event_id = $1 AND b.user_id = ANY($2::bigint[]) AND b.status IN ('confirmed', 'pending')
GROUP BY b.user_id;

-- name: apply_batch
-- Everything a batch writes, in one statement: new bookings (confirmed, or pending holds, some
-- of them waiting-list offers) and their items, changed bookings (cancelled, confirmed,
-- extended, expired), the ticket types' and the event's new counts (computed under this
-- transaction's locks), the Idempotency-Keys' bookings, the owners' mails in the outbox, and
-- the waiting list's new and changed entries, the minute's figures and the webhook deliveries:
-- committed (or not) together. $2.. are lists of the typed rows of migrations 0006-0008; $10: a sales window
-- opened or closed (or an organizer's change asked for the waiting list to be settled).
WITH new_bookings AS (
    INSERT INTO bookings (booking_reference, user_id, event_id, total_price, status, expires_at,
                          confirmed_at)
    SELECT b.reference, b.user_id, $1, b.total, b.status, b.expires_at,
           CASE WHEN b.status = 'confirmed' THEN now() END
    FROM unnest($2::batch_booking[]) AS b
    RETURNING id, booking_reference
), new_items AS (
    INSERT INTO booking_items (booking_id, ticket_type_id, quantity, price_at_booking)
    SELECT nb.id, i.ticket_type_id, i.quantity, i.price
    FROM unnest($3::batch_item[]) WITH ORDINALITY AS i(reference, ticket_type_id, quantity, price, n)
    JOIN new_bookings nb ON nb.booking_reference = i.reference
    ORDER BY i.n
    RETURNING id
), changed AS (
    UPDATE bookings b
    SET status = c.status, expires_at = c.expires_at, updated_at = now(),
        cancelled_at = CASE WHEN c.status = 'cancelled' THEN now() ELSE b.cancelled_at END,
        confirmed_at = CASE WHEN c.status = 'confirmed' THEN coalesce(b.confirmed_at, now())
                            ELSE b.confirmed_at END
    FROM unnest($4::batch_change[]) AS c
    WHERE b.id = c.booking_id
), counts AS (
    UPDATE ticket_types t
    SET quantity_available = c.available, quantity_held = c.held, quantity_sold = c.sold,
        quantity_kept = c.kept, waiting = c.waiting, updated_at = now()
    FROM unnest($5::batch_count[]) AS c
    WHERE t.id = c.ticket_type_id
), keys AS (
    -- A key names a new booking (booked, or held) or one that exists (a hold confirmed).
    UPDATE idempotency_keys k SET booking_id = coalesce(nb.id, b.id)
    FROM unnest($6::batch_key[]) AS ik
    LEFT JOIN new_bookings nb ON nb.booking_reference = ik.reference
    LEFT JOIN bookings b ON b.booking_reference = ik.reference
    WHERE k.user_id = ik.user_id AND k.key = ik.key
), mails AS (
    INSERT INTO outbox (recipient, subject, body)
    SELECT u.email, m.subject, m.body
    FROM unnest($7::batch_mail[]) WITH ORDINALITY AS m(user_id, subject, body, n)
    JOIN users u ON u.id = m.user_id
    ORDER BY m.n
), new_entries AS (
    INSERT INTO waitlist_entries (event_id, ticket_type_id, user_id, quantity, status,
                                  booking_id)
    SELECT $1, e.ticket_type_id, e.user_id, e.quantity, e.status, nb.id
    FROM unnest($11::batch_entry[]) WITH ORDINALITY AS e(user_id, ticket_type_id, quantity,
                                                        status, reference, n)
    LEFT JOIN new_bookings nb ON nb.booking_reference = e.reference
    ORDER BY e.n
    RETURNING id
), changed_entries AS (
    UPDATE waitlist_entries w
    SET status = c.status, booking_id = coalesce(nb.id, w.booking_id), updated_at = now()
    FROM unnest($12::batch_entry_change[]) AS c
    LEFT JOIN new_bookings nb ON nb.booking_reference = c.reference
    WHERE w.id = c.entry_id
), minutes AS (
    -- The bookings confirmed ($14, with $15 tickets) and cancelled ($16), for the dashboard.
    INSERT INTO booking_minutes (event_id, minute, bookings, tickets, cancellations)
    SELECT $1, date_trunc('minute', now()), $14, $15, $16
    WHERE $14 > 0 OR $16 > 0
    ON CONFLICT (event_id, minute) DO UPDATE
    SET bookings = booking_minutes.bookings + excluded.bookings,
        tickets = booking_minutes.tickets + excluded.tickets,
        cancellations = booking_minutes.cancellations + excluded.cancellations
), hooks AS (
    -- What happened ($17 types, $18 their data) to each of the organizer's webhooks that
    -- wants it (none written unless the lock statement found webhooks: see ``hooked``).
    INSERT INTO webhook_deliveries (webhook_id, type, data)
    SELECT w.id, h.type, h.data::jsonb
    FROM unnest($17::text[], $18::text[]) WITH ORDINALITY AS h(type, data, n)
    JOIN events e ON e.id = $1
    JOIN webhooks w ON w.organizer_id = e.organizer_id
                   AND (w.event_id IS NULL OR w.event_id = $1) AND h.type = ANY (w.events)
    ORDER BY h.n, w.id
)
UPDATE events
SET tickets_sold = $8, tickets_held = $9, tickets_kept = $13, seq = seq + 1,
    next_transition_at = CASE WHEN $10 THEN next_sales_transition($1) ELSE next_transition_at END
WHERE id = $1
-- The new items' and entries' ids in the order of $3 and $11 (identity values follow the
-- inserts' ORDER BY).
RETURNING seq, next_transition_at, ARRAY(SELECT id FROM new_items ORDER BY id) AS item_ids,
          ARRAY(SELECT id FROM new_entries ORDER BY id) AS entry_ids;

-- name: batch_committed
-- After an ambiguous failure: did the batch stamped $3 commit? (Its bookings, its changes to
-- bookings, or to the waiting list of event $4.)
SELECT EXISTS (SELECT 1 FROM bookings WHERE booking_reference = ANY($1::uuid[]))
    OR EXISTS (SELECT 1 FROM bookings WHERE id = ANY($2::bigint[]) AND updated_at = $3)
    OR EXISTS (SELECT 1 FROM waitlist_entries WHERE event_id = $4 AND updated_at = $3);

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
       b.updated_at, b.cancelled_at, b.expires_at, b.total_price, u.username
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

-- name: due_events
-- Events with something due (a hold whose time ran out, a sales window that opened or closed),
-- for the sweeper: their actors do it (and those of the other instances find it done).
SELECT event_id AS id FROM bookings WHERE status = 'pending' AND expires_at <= now()
UNION
SELECT id FROM events WHERE next_transition_at <= now()
LIMIT $1;
