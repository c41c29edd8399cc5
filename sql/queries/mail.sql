-- name: enqueue_mail
INSERT INTO outbox (recipient, subject, body) VALUES ($1, $2, $3) RETURNING id;

-- name: claim_due_mail
-- SKIP LOCKED: several instances share the outbox, each mail is taken by one of them.
SELECT id, recipient, subject, body, attempts
FROM outbox
WHERE sent_at IS NULL AND next_attempt_at <= now()
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED;

-- name: mark_mail_sent
UPDATE outbox SET sent_at = now(), attempts = attempts + 1, delivered_via = $2, last_error = NULL
WHERE id = ANY($1::bigint[]);

-- name: mark_mail_failed
UPDATE outbox
SET attempts = attempts + 1, last_error = $2, next_attempt_at = now() + make_interval(secs => $3)
WHERE id = $1;
