-- The purge job deletes sent mail older than the retention by sent_at.
CREATE INDEX outbox_sent_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL;
