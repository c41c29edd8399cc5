-- The waiting room: a fair queue for a hot on-sale. Its whole state is here, so that no place
-- is lost and nobody is admitted twice whichever instance dies: the room's counters (locked by
-- whoever draws or admits, on any instance) and one place per user.

CREATE TABLE waiting_rooms (
    event_id         bigint PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    admit_per_minute integer NOT NULL CHECK (admit_per_minute BETWEEN 1 AND 100000),
    session_seconds  integer NOT NULL CHECK (session_seconds BETWEEN 5 AND 86400),
    -- When the prequeue was drawn (at sales_start; at the first join or tick when there is none).
    drawn_at         timestamptz,
    last_position    bigint NOT NULL DEFAULT 0 CHECK (last_position >= 0),  -- the last given
    -- Places up to this one are admitted (admission only ever moves it forward).
    admitted_through bigint NOT NULL DEFAULT 0 CHECK (admitted_through >= 0),
    -- Admissions are owed from this moment on, at admit_per_minute (null: not started).
    clock            timestamptz,
    CONSTRAINT waiting_rooms_admitted_given CHECK (admitted_through <= last_position)
);

CREATE TABLE queue_places (
    event_id       bigint NOT NULL REFERENCES waiting_rooms (event_id) ON DELETE CASCADE,
    user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position       bigint,  -- null in the prequeue, until the draw
    joined_at      timestamptz NOT NULL DEFAULT now(),
    admitted_at    timestamptz,
    admitted_until timestamptz,
    PRIMARY KEY (event_id, user_id),
    CONSTRAINT queue_places_admitted_placed CHECK (admitted_at IS NULL OR position IS NOT NULL)
);
CREATE UNIQUE INDEX queue_places_position_idx ON queue_places (event_id, position);
CREATE INDEX queue_places_prequeue_idx ON queue_places (event_id) WHERE position IS NULL;
CREATE INDEX queue_places_admitted_idx ON queue_places (event_id, admitted_at)
    WHERE admitted_at IS NOT NULL;
CREATE INDEX queue_places_user_idx ON queue_places (user_id);

-- Events as the API shows them, with their waiting room's settings.
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
       END AS tickets_available,
       r.admit_per_minute AS room_admit_per_minute,
       r.session_seconds AS room_session_seconds
FROM events e
JOIN users u ON u.id = e.organizer_id
LEFT JOIN waiting_rooms r ON r.event_id = e.id;

-- The observed admission rate (for each place's eta), measured by the admitting transaction over
-- windows of a few seconds: null until the first window closes.
ALTER TABLE waiting_rooms
    ADD COLUMN window_start timestamptz,
    ADD COLUMN window_admitted integer NOT NULL DEFAULT 0,
    ADD COLUMN observed_per_minute double precision;

-- A room with what decides it: its event's sales window, what can be booked, and whether the
-- event can still sell (not cancelled, not started, its sales not over).
CREATE VIEW waiting_rooms_view AS
SELECT r.*, e.sales_start, e.sales_end, v.tickets_available, now() AS stamp,
       e.status NOT IN ('cancelled', 'past') AND e.start_time > now()
           AND (e.sales_end IS NULL OR e.sales_end > now()) AS selling
FROM waiting_rooms r
JOIN events e ON e.id = r.event_id
JOIN events_view v ON v.id = r.event_id;
