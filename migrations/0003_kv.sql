-- The key-value state machine. applied_index and revision change in the same transaction as
-- the data, so a crash leaves them consistent.
CREATE TABLE kv (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL,
  version INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  applied_index INTEGER NOT NULL,
  revision INTEGER NOT NULL
);
INSERT INTO state (id, applied_index, revision) VALUES (1, 0, 0);

-- Idempotency-Key records, applied from the log so every replica holds the same ones.
CREATE TABLE idempotency (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  result TEXT NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX idempotency_at_ms ON idempotency (at_ms);
