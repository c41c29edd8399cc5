-- Superusers, their audit log, and the per-minute figures an organizer's dashboard draws.

ALTER TABLE users
    DROP CONSTRAINT users_role_check,
    ADD CONSTRAINT users_role_check CHECK (role IN ('attendee', 'organizer', 'admin'));

-- Every admin write, in the transaction of the change.
CREATE TABLE audit_log (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_id bigint REFERENCES users (id) ON DELETE SET NULL,
    actor    text NOT NULL,  -- the admin's username then
    action   text NOT NULL,  -- e.g. user.update, event.cancel
    target   text NOT NULL,  -- e.g. user:42, event:7
    detail   jsonb NOT NULL DEFAULT '{}',
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);

-- An event's bookings confirmed (and their tickets) and cancellations, per minute: kept by the
-- transactions that confirm and cancel, so that the dashboard reads an hour as 60 rows, however
-- many bookings the event has.
CREATE TABLE booking_minutes (
    event_id      bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    minute        timestamptz NOT NULL,
    bookings      integer NOT NULL DEFAULT 0,
    tickets       integer NOT NULL DEFAULT 0,
    cancellations integer NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, minute)
);
INSERT INTO booking_minutes (event_id, minute, bookings, tickets)
SELECT b.event_id, date_trunc('minute', b.confirmed_at), count(DISTINCT b.id),
       sum(i.quantity)
FROM bookings b JOIN booking_items i ON i.booking_id = b.id
WHERE b.confirmed_at IS NOT NULL
GROUP BY 1, 2;
INSERT INTO booking_minutes (event_id, minute, cancellations)
SELECT event_id, date_trunc('minute', cancelled_at), count(*)
FROM bookings WHERE status = 'cancelled' AND cancelled_at IS NOT NULL
GROUP BY 1, 2
ON CONFLICT (event_id, minute) DO UPDATE SET cancellations = excluded.cancellations;

-- The dashboard's waiting-list figures: the live entries of an event, by status.
CREATE INDEX waitlist_entries_live_event_idx ON waitlist_entries (event_id, status)
    WHERE status IN ('waiting', 'offered');
