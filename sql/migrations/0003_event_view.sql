-- Events as the API shows them: the organizer's username and what can still be booked.
CREATE VIEW events_view AS
SELECT e.*,
       u.username AS organizer,
       CASE
           WHEN e.status IN ('cancelled', 'past') OR e.start_time <= now() THEN 0
           ELSE LEAST(
               e.total_capacity - e.tickets_sold,
               COALESCE((SELECT sum(t.quantity_available)::integer
                         FROM ticket_types t
                         WHERE t.event_id = e.id AND t.is_active), 0))
       END AS tickets_available
FROM events e
JOIN users u ON u.id = e.organizer_id;
