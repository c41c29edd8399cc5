-- The core schema: accounts, events, ticket types, bookings.
-- Invariants live here as constraints, not only in Python: a buggy caller can never oversell.

CREATE TABLE users (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username           varchar(150) NOT NULL,
    email              varchar(254) NOT NULL,
    password_hash      text NOT NULL,
    role               varchar(10) NOT NULL CHECK (role IN ('attendee', 'organizer')),
    first_name         varchar(150) NOT NULL DEFAULT '',
    last_name          varchar(150) NOT NULL DEFAULT '',
    is_active          boolean NOT NULL DEFAULT true,
    last_login         timestamptz,
    date_joined        timestamptz NOT NULL DEFAULT now(),
    -- Tokens issued before this instant are refused (password reset, deactivation).
    tokens_valid_after timestamptz,
    CONSTRAINT users_username_key UNIQUE (username)
);
-- One account per address, whatever its case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organizer_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           varchar(255) NOT NULL CHECK (length(name) >= 1),
    description    text NOT NULL DEFAULT '',
    location       varchar(255) NOT NULL,
    start_time     timestamptz NOT NULL,
    end_time       timestamptz,
    total_capacity integer NOT NULL CHECK (total_capacity >= 1),
    -- Sum of quantity_sold over the event's ticket types, kept under the event row lock.
    tickets_sold   integer NOT NULL DEFAULT 0,
    status         varchar(10) NOT NULL DEFAULT 'upcoming'
                   CHECK (status IN ('upcoming', 'cancelled', 'sold_out', 'past')),
    -- Version of the event's availability: increases with every committed change.
    seq            bigint NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_tickets_sold_in_capacity
        CHECK (tickets_sold >= 0 AND tickets_sold <= total_capacity)
);
CREATE INDEX events_organizer_id_idx ON events (organizer_id);
CREATE INDEX events_start_time_idx ON events (start_time, id);

CREATE TABLE ticket_types (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id           bigint NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    name               varchar(100) NOT NULL CHECK (length(name) >= 1),
    description        text NOT NULL DEFAULT '',
    price              numeric(10, 2) NOT NULL CHECK (price >= 0),
    -- Remaining stock, as in the reference: original stock = available + sold.
    quantity_available integer NOT NULL CHECK (quantity_available >= 0),
    quantity_sold      integer NOT NULL DEFAULT 0 CHECK (quantity_sold >= 0),
    is_active          boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT unique_ticket_type_name_per_event UNIQUE (event_id, name)
);

CREATE TABLE bookings (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_reference uuid NOT NULL,
    user_id           bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id          bigint NOT NULL REFERENCES events (id) ON DELETE RESTRICT,
    total_price       numeric(12, 2) NOT NULL CHECK (total_price >= 0),
    status            varchar(20) NOT NULL DEFAULT 'confirmed'
                      CHECK (status IN ('pending', 'confirmed', 'cancelled')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    cancelled_at      timestamptz,
    CONSTRAINT bookings_booking_reference_key UNIQUE (booking_reference),
    CONSTRAINT bookings_cancelled_has_timestamp
        CHECK (status <> 'cancelled' OR cancelled_at IS NOT NULL)
);
CREATE INDEX bookings_user_created_idx ON bookings (user_id, created_at DESC);
CREATE INDEX bookings_event_created_idx ON bookings (event_id, created_at DESC);

CREATE TABLE booking_items (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_id       bigint NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    ticket_type_id   bigint NOT NULL REFERENCES ticket_types (id) ON DELETE RESTRICT,
    quantity         integer NOT NULL CHECK (quantity >= 1),
    price_at_booking numeric(10, 2) NOT NULL CHECK (price_at_booking >= 0),
    CONSTRAINT booking_items_one_line_per_type UNIQUE (booking_id, ticket_type_id)
);
CREATE INDEX booking_items_ticket_type_idx ON booking_items (ticket_type_id);
