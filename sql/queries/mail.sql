-- name: enqueue_mail
INSERT INTO outbox (recipient, subject, body) VALUES ($1, $2, $3) RETURNING id;

-- name: claim_due_mail
-- A lease, not a lock held open: the claimed mails' next attempt moves past the lease in a
-- transaction of its own that commits at once, and SMTP talks with no transaction open.
-- SKIP LOCKED: instances claiming at the same moment take different mails. A sender that dies
-- mid-send leaves its claim to expire: the mails are then due again.
UPDATE outbox SET next_attempt_at = now() + make_interval(secs => $2)
WHERE id IN (
    SELECT id FROM outbox
    WHERE sent_at IS NULL AND next_attempt_at <= now()
    ORDER BY id
    LIMIT $1
    FOR UPDATE SKIP LOCKED)
RETURNING id, recipient, subject, body, attempts;

-- name: settle_mail
-- A round's results in one statement: each mail sent (error null) or due again after its
-- back-off (seconds), its error kept.
UPDATE outbox o
SET attempts = o.attempts + 1,
    sent_at = CASE WHEN r.error IS NULL THEN now() END,
    delivered_via = CASE WHEN r.error IS NULL THEN $4::text END,
    last_error = r.error,
    next_attempt_at = CASE WHEN r.error IS NULL THEN o.next_attempt_at
                           ELSE now() + make_interval(secs => r.delay) END
FROM unnest($1::bigint[], $2::text[], $3::float8[]) AS r(id, error, delay)
WHERE o.id = r.id;

-- name: release_mail
-- Mails a stopping sender had claimed and not settled: due again at once, for any sender.
UPDATE outbox SET next_attempt_at = now()
WHERE id = ANY ($1::bigint[]) AND sent_at IS NULL;
