-- name: lock_waiting_room
-- A room and what decides it (the columns of waiting_rooms_view), locked for a join, a draw or
-- an admission: the room's row only (the event's row stays the booking actor's). {strength} is
-- UPDATE, or SHARE for joins to the prequeue (they may run together; the draw waits for them).
SELECT r.*, e.sales_start, e.sales_end, v.tickets_available, now() AS stamp,
       e.status NOT IN ('cancelled', 'past') AND e.start_time > now()
           AND (e.sales_end IS NULL OR e.sales_end > now()) AS selling
FROM waiting_rooms r
JOIN events e ON e.id = r.event_id
JOIN events_view v ON v.id = r.event_id
WHERE r.event_id = $1
FOR {strength} OF r;

-- name: draw_prequeue
-- The draw: everyone in the prequeue gets a place after $2, in an order drawn at random (from
-- the server's strong random source: nobody can predict or steer it). Returns how many.
WITH drawn AS (
    UPDATE queue_places p
    SET position = $2 + d.n
    FROM (SELECT user_id, row_number() OVER (ORDER BY gen_random_uuid()) AS n
          FROM queue_places WHERE event_id = $1 AND position IS NULL) d
    WHERE p.event_id = $1 AND p.user_id = d.user_id
    RETURNING 1
)
SELECT count(*) FROM drawn;

-- name: admit_places
-- Admit the places after $2 up to $3, for $4 seconds each; their users, in order.
UPDATE queue_places
SET admitted_at = now(), admitted_until = now() + $4 * interval '1 second'
WHERE event_id = $1 AND position > $2 AND position <= $3
RETURNING user_id, position;

-- name: save_waiting_room
UPDATE waiting_rooms
SET drawn_at = $2, last_position = $3, admitted_through = $4, clock = $5, window_start = $6,
    window_admitted = $7, observed_per_minute = $8
WHERE event_id = $1;

-- name: rooms_to_admit
-- Rooms with a draw due or places waiting, whose events can still sell.
SELECT r.event_id
FROM waiting_rooms r JOIN events e ON e.id = r.event_id
WHERE (r.drawn_at IS NULL OR r.admitted_through < r.last_position)
  AND (e.sales_start IS NULL OR e.sales_start <= now())
  AND e.status NOT IN ('cancelled', 'past') AND e.start_time > now()
ORDER BY r.event_id;

-- name: queue_place
SELECT position, admitted_at, admitted_until FROM queue_places
WHERE event_id = $1 AND user_id = $2;

-- name: insert_queue_place
-- (A racing join of the same user to the prequeue may have made it first: then nothing.)
INSERT INTO queue_places (event_id, user_id, position) VALUES ($1, $2, $3)
ON CONFLICT (event_id, user_id) DO NOTHING
RETURNING true;

-- name: requeue_place
-- An admission that ran out: the user queues again, at the back.
UPDATE queue_places
SET position = $3, joined_at = now(), admitted_at = NULL, admitted_until = NULL
WHERE event_id = $1 AND user_id = $2;

-- name: read_waiting_room
SELECT * FROM waiting_rooms_view WHERE event_id = $1;

-- name: upsert_waiting_room
INSERT INTO waiting_rooms (event_id, admit_per_minute, session_seconds) VALUES ($1, $2, $3)
ON CONFLICT (event_id) DO UPDATE
SET admit_per_minute = excluded.admit_per_minute, session_seconds = excluded.session_seconds;

-- name: delete_waiting_room
DELETE FROM waiting_rooms WHERE event_id = $1;

-- name: places_of_users
-- The places in rooms that still apply of these users, not yet admitted, with their rooms: what
-- their sockets are told every few seconds.
SELECT p.user_id, p.position, p.admitted_at, p.admitted_until, w.*
FROM queue_places p JOIN waiting_rooms_view w USING (event_id)
WHERE p.user_id = ANY($1::bigint[]) AND p.admitted_at IS NULL AND w.selling;

-- name: holds_ending
-- Pending holds of these users that end in the window ($2, $3]: their 60-second warning.
SELECT user_id, booking_reference, expires_at FROM bookings
WHERE status = 'pending' AND user_id = ANY($1::bigint[])
  AND expires_at > $2 AND expires_at <= $3;
