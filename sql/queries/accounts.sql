-- name: user_by_id
SELECT id, username, email, role, first_name, last_name, is_active, tokens_valid_after, password_hash
FROM users WHERE id = $1;

-- name: users_by_ids
SELECT id, username, email, role, first_name, last_name, is_active, tokens_valid_after, password_hash
FROM users WHERE id = ANY ($1::bigint[]);

-- name: user_by_username
SELECT id, username, email, role, first_name, last_name, is_active, tokens_valid_after, password_hash
FROM users WHERE username = $1;

-- name: active_user_by_email
SELECT id, username, email, role, first_name, last_name, is_active, tokens_valid_after, password_hash
FROM users WHERE lower(email) = lower($1) AND is_active;

-- name: username_taken
SELECT EXISTS (SELECT 1 FROM users WHERE username = $1 AND id IS DISTINCT FROM $2);

-- name: email_owner
-- Another account's address, exactly or in another case: (exact, any_case).
SELECT bool_or(email = $1) AS exact, count(*) > 0 AS any_case
FROM users WHERE lower(email) = lower($1) AND id IS DISTINCT FROM $2;

-- name: insert_user
INSERT INTO users (username, email, password_hash, role)
VALUES ($1, $2, $3, $4)
RETURNING id, username, email, role;

-- name: record_login
UPDATE users SET last_login = now() WHERE id = $1;

-- name: update_profile
UPDATE users SET username = $2, email = $3 WHERE id = $1
RETURNING id, username, email, role;

-- name: password_hash_of
SELECT password_hash FROM users WHERE id = $1;

-- name: set_password
UPDATE users SET password_hash = $2 WHERE id = $1;

-- name: reset_password
-- A reset also ends every session: tokens issued before the next whole second are refused
-- (token times are whole seconds; a login waits for that second, see Accounts.login).
UPDATE users
SET password_hash = $2,
    tokens_valid_after = date_trunc('second', clock_timestamp()) + interval '1 second'
WHERE id = $1;

-- name: deactivate_user
UPDATE users
SET is_active = false,
    tokens_valid_after = date_trunc('second', clock_timestamp()) + interval '1 second'
WHERE id = $1 AND is_active
RETURNING id;

-- name: insert_reset_token
INSERT INTO password_reset_tokens (user_id, token_hash, expires_at)
VALUES ($1, $2, now() + make_interval(secs => $3));

-- name: lock_reset_token
SELECT id, user_id, expires_at > now() AS fresh, used_at IS NULL AS unused
FROM password_reset_tokens WHERE token_hash = $1
FOR UPDATE;

-- name: use_reset_tokens
-- Every open link of the user dies with the reset, not only the one that was used.
UPDATE password_reset_tokens SET used_at = now() WHERE user_id = $1 AND used_at IS NULL;
