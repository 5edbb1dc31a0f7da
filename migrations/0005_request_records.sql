-- A fingerprint of the request an Idempotency-Key was first used for, so that the key reused
-- for another request is refused (422). Records from before this migration have none and are
-- taken as matching.
ALTER TABLE idempotency ADD COLUMN fingerprint TEXT;
-- The internal ids of forwarded writes, kept like Idempotency-Key records but for a shorter
-- time: a forward and its retries are deduplicated by them.
CREATE TABLE request_records (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  result TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  fingerprint TEXT
);
-- Eviction is by apply order (seq) now, not by at_ms.
DROP INDEX idempotency_at_ms;
