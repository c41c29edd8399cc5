-- Typed rows for a booking batch's one write statement (apply_batch): a list of each kind of
-- row, instead of one array per column.
CREATE TYPE batch_booking AS (reference uuid, user_id bigint, total numeric(12, 2));
CREATE TYPE batch_item AS (reference uuid, ticket_type_id bigint, quantity integer,
                           price numeric(10, 2));
CREATE TYPE batch_count AS (ticket_type_id bigint, available integer, sold integer);
CREATE TYPE batch_key AS (user_id bigint, key text, reference uuid);
CREATE TYPE batch_mail AS (user_id bigint, subject text, body text);
