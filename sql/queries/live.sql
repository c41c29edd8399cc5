-- name: event_availability
-- One event's whole availability, read in one statement (one snapshot, one committed seq).
SELECT v.id, v.seq, v.status, v.total_capacity, v.tickets_sold, v.tickets_available,
       coalesce((SELECT json_agg(json_build_object(
                    'id', t.id, 'name', t.name, 'price', t.price::text,
                    'quantity_available', t.quantity_available, 'quantity_sold', t.quantity_sold,
                    'is_active', t.is_active) ORDER BY t.id)
                 FROM ticket_types t WHERE t.event_id = v.id), '[]') AS ticket_types
FROM events_view v
WHERE v.id = $1;
