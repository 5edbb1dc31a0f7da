-- The acceptor's durable state: its promise, and per slot the accepted value and chosen flag.
CREATE TABLE promised (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  round INTEGER NOT NULL,
  node INTEGER NOT NULL
);
INSERT INTO promised (id, round, node) VALUES (1, 0, 0);

CREATE TABLE log (
  slot INTEGER PRIMARY KEY,
  round INTEGER NOT NULL,
  node INTEGER NOT NULL,
  value TEXT NOT NULL,          -- JSON of the slot's command batch
  chosen INTEGER NOT NULL CHECK (chosen IN (0, 1))
);
