-- name: purge_idempotency_keys
-- At most $1 keys older than 24 hours (a key older than that is free again anyway).
DELETE FROM idempotency_keys k
USING (SELECT user_id, key FROM idempotency_keys
       WHERE created_at < now() - interval '24 hours'
       LIMIT $1) old
WHERE k.user_id = old.user_id AND k.key = old.key;

-- name: purge_sent_mail
-- At most $1 mails sent more than $2 days ago; unsent mail is never purged.
DELETE FROM outbox
WHERE id IN (SELECT id FROM outbox
             WHERE sent_at < now() - make_interval(days => $2)
             LIMIT $1);

-- name: purge_done_webhooks
-- At most $1 webhook deliveries delivered (or abandoned) more than $2 days ago; the rest are
-- never purged.
DELETE FROM webhook_deliveries
WHERE id IN (SELECT id FROM webhook_deliveries
             WHERE (delivered_at IS NOT NULL OR abandoned_at IS NOT NULL)
               AND created_at < now() - make_interval(days => $2)
             LIMIT $1);
