-- name: admin_count_users
-- $1 search (part of the username, email or name, any case), $2 role, $3 is_active.
SELECT count(*) FROM users u
WHERE ($1::text IS NULL OR strpos(lower(u.username || ' ' || u.email || ' ' || u.first_name
                                      || ' ' || u.last_name), lower($1)) > 0)
  AND ($2::text IS NULL OR u.role = $2)
  AND ($3::boolean IS NULL OR u.is_active = $3);

-- name: admin_list_users
SELECT u.id, u.username, u.email, u.first_name, u.last_name, u.role, u.is_active, u.date_joined
FROM users u
WHERE ($1::text IS NULL OR strpos(lower(u.username || ' ' || u.email || ' ' || u.first_name
                                      || ' ' || u.last_name), lower($1)) > 0)
  AND ($2::text IS NULL OR u.role = $2)
  AND ($3::boolean IS NULL OR u.is_active = $3)
ORDER BY u.id
LIMIT $4 OFFSET $5;

-- name: admin_lock_user
SELECT id, username, email, first_name, last_name, role, is_active, date_joined
FROM users WHERE id = $1
FOR UPDATE;

-- name: admin_update_user
-- A new role and activity; deactivating refuses every token issued so far (as one's own
-- deactivation does), reactivating lets the user sign in again.
UPDATE users
SET role = $2,
    is_active = $3,
    tokens_valid_after = CASE
        WHEN is_active AND NOT $3 THEN date_trunc('second', clock_timestamp()) + interval '1 second'
        ELSE tokens_valid_after
    END
WHERE id = $1
RETURNING id, username, email, first_name, last_name, role, is_active, date_joined;

-- name: insert_audit
INSERT INTO audit_log (actor_id, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5);

-- name: count_audit
SELECT count(*) FROM audit_log;

-- name: list_audit
SELECT actor, action, target, at, detail FROM audit_log
ORDER BY at DESC, id DESC
LIMIT $1 OFFSET $2;
