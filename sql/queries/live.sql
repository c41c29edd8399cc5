-- name: event_availability
-- One event's whole availability, read in one statement (one snapshot, one committed seq). A
-- type's sales window is shown clamped to the event's (as it applies).
SELECT v.id, v.seq, v.status, v.total_capacity, v.tickets_sold, v.tickets_held,
       v.tickets_available, v.sales_start, v.sales_end,
       coalesce((SELECT json_agg(json_build_object(
                    'id', t.id, 'name', t.name, 'price', t.price::text,
                    'quantity_available', t.quantity_available, 'quantity_held', t.quantity_held,
                    'quantity_sold', t.quantity_sold, 'waiting', t.waiting,
                    'is_active', t.is_active,
                    'on_sale', t.on_sale,
                    'sales_start', greatest(t.sales_start, v.sales_start),
                    'sales_end', least(t.sales_end, v.sales_end)) ORDER BY t.id)
                 FROM ticket_types_view t WHERE t.event_id = v.id), '[]') AS ticket_types
FROM events_view v
WHERE v.id = $1;
