-- The key-value state lives in memory now, restored at start from the newest snapshot (files in
-- snapshots/) and the chosen log entries after it. The log was never truncated by the builds that
-- wrote these tables, so replaying it from slot 1 rebuilds exactly what they held (the dedupe
-- records included: they are applied from the log too): they go.
DROP TABLE kv;
DROP TABLE state;
DROP TABLE idempotency;
DROP TABLE request_records;
