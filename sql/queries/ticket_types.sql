-- name: count_ticket_types
SELECT count(*) FROM ticket_types WHERE event_id = $1;

-- name: list_ticket_types
-- {order_by} is filled only from a fixed list of columns (server/events.py), never from input.
SELECT * FROM ticket_types_view WHERE event_id = $1
ORDER BY {order_by}
LIMIT $2 OFFSET $3;

-- name: ticket_type_by_id
SELECT * FROM ticket_types_view WHERE id = $1 AND event_id = $2;

-- name: lock_ticket_type
SELECT id, name, description, price, quantity_available, is_active, sales_start, sales_end,
       waiting
FROM ticket_types WHERE id = $1 AND event_id = $2
FOR UPDATE;

-- name: keep_for_waitlist
-- $3 seats added to the type's stock go to its waiting list, not on sale (its actor offers
-- them next): kept back, which counts as held.
WITH kept AS (
    UPDATE ticket_types
    SET quantity_kept = quantity_kept + $3, quantity_held = quantity_held + $3
    WHERE id = $1 AND event_id = $2
)
UPDATE events SET tickets_kept = tickets_kept + $3, tickets_held = tickets_held + $3
WHERE id = $2;

-- name: insert_ticket_type
INSERT INTO ticket_types (event_id, name, description, price, quantity_available, is_active,
                          sales_start, sales_end)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id;

-- name: update_ticket_type
UPDATE ticket_types
SET name = $3, description = $4, price = $5, quantity_available = $6, is_active = $7,
    sales_start = $8, sales_end = $9, updated_at = now()
WHERE id = $1 AND event_id = $2
RETURNING id;

-- name: ticket_type_has_bookings
SELECT EXISTS (SELECT 1 FROM booking_items WHERE ticket_type_id = $1);

-- name: delete_ticket_type
DELETE FROM ticket_types WHERE id = $1;
