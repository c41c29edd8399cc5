-- name: event_minutes
-- The last 60 minutes (the current one last), each with its figures (zero when none).
SELECT m.minute, coalesce(b.bookings, 0) AS bookings,
       coalesce(b.cancellations, 0) AS cancellations, coalesce(b.tickets, 0) AS tickets
FROM generate_series(date_trunc('minute', now()) - interval '59 minutes',
                     date_trunc('minute', now()), interval '1 minute') AS m(minute)
LEFT JOIN booking_minutes b ON b.event_id = $1 AND b.minute = m.minute
ORDER BY m.minute;

-- name: event_waitlist_figures
SELECT count(*) FILTER (WHERE status = 'waiting') AS waiting,
       count(*) FILTER (WHERE status = 'offered') AS offered
FROM waitlist_entries WHERE event_id = $1 AND status IN ('waiting', 'offered');

-- name: event_queue_figures
-- Waiting: places given and not yet admitted, and the prequeue; admitted: admissions still
-- running (tokens still valid).
SELECT r.admit_per_minute,
       r.last_position - r.admitted_through
           + (SELECT count(*) FROM queue_places p
              WHERE p.event_id = $1 AND p.position IS NULL) AS waiting,
       (SELECT count(*) FROM queue_places p
        WHERE p.event_id = $1
          AND p.admitted_at > now() - r.session_seconds * interval '1 second'
          AND p.admitted_until > now()) AS admitted
FROM waiting_rooms r WHERE r.event_id = $1;
