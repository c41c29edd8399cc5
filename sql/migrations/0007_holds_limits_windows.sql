-- Holds with a checkout timer, limits per booking and per customer, sales windows.
-- Existing events get the defaults (10-minute holds, no limits, always on sale); existing
-- bookings were all confirmed when made.

ALTER TABLE events
    ADD COLUMN hold_seconds integer NOT NULL DEFAULT 600
        CHECK (hold_seconds BETWEEN 5 AND 7200),
    ADD COLUMN max_tickets_per_booking integer CHECK (max_tickets_per_booking >= 1),
    ADD COLUMN max_tickets_per_customer integer CHECK (max_tickets_per_customer >= 1),
    ADD COLUMN sales_start timestamptz,
    ADD COLUMN sales_end timestamptz,
    -- Seats in pending holds, kept under the event row lock like tickets_sold.
    ADD COLUMN tickets_held integer NOT NULL DEFAULT 0 CHECK (tickets_held >= 0),
    -- The next sales-window boundary (of the event or a ticket type) still to come: when it
    -- passes, the event's actor (or the sweeper) publishes the new on-sale state.
    ADD COLUMN next_transition_at timestamptz,
    ADD CONSTRAINT events_sales_window CHECK (sales_end > sales_start),
    DROP CONSTRAINT events_tickets_sold_in_capacity,
    ADD CONSTRAINT events_tickets_in_capacity
        CHECK (tickets_sold >= 0 AND tickets_sold + tickets_held <= total_capacity);
CREATE INDEX events_next_transition_idx ON events (next_transition_at)
    WHERE next_transition_at IS NOT NULL;

-- A ticket type's stock is quantity_available + quantity_held + quantity_sold.
ALTER TABLE ticket_types
    ADD COLUMN quantity_held integer NOT NULL DEFAULT 0 CHECK (quantity_held >= 0),
    ADD COLUMN sales_start timestamptz,
    ADD COLUMN sales_end timestamptz,
    ADD CONSTRAINT ticket_types_sales_window CHECK (sales_end > sales_start);

ALTER TABLE bookings
    DROP CONSTRAINT bookings_status_check,
    ADD CONSTRAINT bookings_status_check
        CHECK (status IN ('pending', 'confirmed', 'cancelled', 'expired')),
    -- A pending booking (a hold) gives its seats back at expires_at, unless confirmed.
    ADD COLUMN expires_at timestamptz,
    ADD CONSTRAINT bookings_pending_expires CHECK (status <> 'pending' OR expires_at IS NOT NULL),
    -- When it became confirmed (at once, or when its hold was confirmed): the stats count it then.
    ADD COLUMN confirmed_at timestamptz;
UPDATE bookings SET confirmed_at = created_at;
-- Holds due to expire: across events (the sweeper) and per event (the actor's next deadline).
CREATE INDEX bookings_pending_expiry_idx ON bookings (expires_at) WHERE status = 'pending';
CREATE INDEX bookings_event_pending_idx ON bookings (event_id, expires_at)
    WHERE status = 'pending';

-- Whether now() lies inside a sales window (an open end: no limit on that side).
CREATE FUNCTION sales_open(opens timestamptz, closes timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT (opens IS NULL OR opens <= now()) AND (closes IS NULL OR now() < closes)
$$;

-- The event's next sales-window boundary after now(), over its own and its types' windows.
CREATE FUNCTION next_sales_transition(event bigint) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT min(moment) FROM (
        SELECT sales_start AS moment FROM events WHERE id = event
        UNION ALL SELECT sales_end FROM events WHERE id = event
        UNION ALL SELECT sales_start FROM ticket_types WHERE event_id = event
        UNION ALL SELECT sales_end FROM ticket_types WHERE event_id = event
    ) boundaries
    WHERE moment > now()
$$;

-- Typed rows of the batch write, with holds.
ALTER TYPE batch_booking ADD ATTRIBUTE status text, ADD ATTRIBUTE expires_at timestamptz;
ALTER TYPE batch_count ADD ATTRIBUTE held integer;
CREATE TYPE batch_change AS (booking_id bigint, status text, expires_at timestamptz);

-- Events as the API shows them: what can be booked now counts neither held seats nor types
-- that are inactive or outside their sales window. (Dropped first: e.* has new columns.)
DROP VIEW events_view;
CREATE VIEW events_view AS
SELECT e.*,
       u.username AS organizer,
       CASE
           WHEN e.status IN ('cancelled', 'past') OR e.start_time <= now() THEN 0
           ELSE GREATEST(0, LEAST(
               e.total_capacity - e.tickets_sold - e.tickets_held,
               COALESCE((SELECT sum(t.quantity_available)::integer
                         FROM ticket_types t
                         WHERE t.event_id = e.id AND t.is_active
                           AND sales_open(t.sales_start, t.sales_end)
                           AND sales_open(e.sales_start, e.sales_end)), 0)))
       END AS tickets_available
FROM events e
JOIN users u ON u.id = e.organizer_id;

-- Ticket types as the API shows them: on sale when now() is inside both the event's window and
-- the type's own (a type's window is clamped to the event's).
CREATE VIEW ticket_types_view AS
SELECT t.*,
       sales_open(t.sales_start, t.sales_end) AND sales_open(e.sales_start, e.sales_end)
           AS on_sale
FROM ticket_types t
JOIN events e ON e.id = t.event_id;
