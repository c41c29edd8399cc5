-- The waiting list: entries in joining order per ticket type, offered freed seats as holds by
-- the event's actor, in the transaction that frees them.

ALTER TABLE events
    -- How long a waiting-list offer (a hold) keeps its seats.
    ADD COLUMN waitlist_offer_seconds integer NOT NULL DEFAULT 3600
        CHECK (waitlist_offer_seconds BETWEEN 5 AND 604800),
    -- Of tickets_held, the seats kept back for the waiting list: freed while entries waited,
    -- too few for any of them so far. Neither available nor in a hold.
    ADD COLUMN tickets_kept integer NOT NULL DEFAULT 0 CHECK (tickets_kept >= 0),
    ADD CONSTRAINT events_kept_in_held CHECK (tickets_kept <= tickets_held);

ALTER TABLE ticket_types
    -- Of quantity_held, the seats kept back for this type's waiting entries (the stock is
    -- still quantity_available + quantity_held + quantity_sold).
    ADD COLUMN quantity_kept integer NOT NULL DEFAULT 0 CHECK (quantity_kept >= 0),
    -- How many entries wait for this type (kept under the event's lock, with the counts).
    ADD COLUMN waiting integer NOT NULL DEFAULT 0 CHECK (waiting >= 0),
    ADD CONSTRAINT ticket_types_kept_in_held CHECK (quantity_kept <= quantity_held);

CREATE TABLE waitlist_entries (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id       bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    ticket_type_id bigint NOT NULL REFERENCES ticket_types (id) ON DELETE CASCADE,
    user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    quantity       integer NOT NULL CHECK (quantity >= 1),
    -- 'left': its user left the list (never shown again; kept so that a batch whose COMMIT
    -- was lost can tell it landed).
    status         text NOT NULL DEFAULT 'waiting'
                   CHECK (status IN ('waiting', 'offered', 'purchased', 'expired', 'closed',
                                     'left')),
    -- The offer: a hold made for this entry.
    booking_id     bigint REFERENCES bookings (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT waitlist_offer_has_booking
        CHECK (status NOT IN ('offered', 'purchased') OR booking_id IS NOT NULL)
);
-- One live entry per user and ticket type.
CREATE UNIQUE INDEX waitlist_entries_live_idx ON waitlist_entries (user_id, ticket_type_id)
    WHERE status IN ('waiting', 'offered');
-- The queue of each type, in joining order (offers, positions).
CREATE INDEX waitlist_entries_queue_idx ON waitlist_entries (ticket_type_id, id)
    WHERE status = 'waiting';
CREATE INDEX waitlist_entries_booking_idx ON waitlist_entries (booking_id)
    WHERE booking_id IS NOT NULL;
CREATE INDEX waitlist_entries_user_idx ON waitlist_entries (user_id, id);
CREATE INDEX waitlist_entries_event_idx ON waitlist_entries (event_id, updated_at);

-- The event's start is a boundary too: its waiting entries close when it starts.
CREATE OR REPLACE FUNCTION next_sales_transition(event bigint) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT min(moment) FROM (
        SELECT sales_start AS moment FROM events WHERE id = event
        UNION ALL SELECT sales_end FROM events WHERE id = event
        UNION ALL SELECT start_time FROM events WHERE id = event
        UNION ALL SELECT sales_start FROM ticket_types WHERE event_id = event
        UNION ALL SELECT sales_end FROM ticket_types WHERE event_id = event
    ) boundaries
    WHERE moment > now()
$$;
UPDATE events SET next_transition_at = next_sales_transition(id);

-- Typed rows of the batch write, with the waiting list.
ALTER TYPE batch_count ADD ATTRIBUTE kept integer, ADD ATTRIBUTE waiting integer;
-- A new entry (joined; perhaps offered at once: then reference names its hold).
CREATE TYPE batch_entry AS (user_id bigint, ticket_type_id bigint, quantity integer,
                            status text, reference uuid);
-- An entry's new status (reference: its new offer's hold, or null).
CREATE TYPE batch_entry_change AS (entry_id bigint, status text, reference uuid);

-- The views again: their e.* and t.* were expanded when they were made.
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

DROP VIEW ticket_types_view;
CREATE VIEW ticket_types_view AS
SELECT t.*,
       sales_open(t.sales_start, t.sales_end) AND sales_open(e.sales_start, e.sales_end)
           AS on_sale
FROM ticket_types t
JOIN events e ON e.id = t.event_id;
