-- Where the log was truncated: every slot through `through` is chosen, covered by a durable
-- snapshot and deleted from `log`. Reads below it answer "compacted", never "nothing accepted".
CREATE TABLE log_compaction (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  through INTEGER NOT NULL CHECK (through >= 0)
);
INSERT INTO log_compaction (id, through) VALUES (1, 0);
