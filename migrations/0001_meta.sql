-- Who this data directory belongs to: a node refuses another cluster's or node's data.
CREATE TABLE meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  cluster_id TEXT NOT NULL,
  node_id INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL
);
