-- Each data directory's incarnation: random, made once when the directory is created. A wiped
-- directory comes back with another one, so its peers can tell a node that forgot its promises
-- from the node they knew. A directory from before this format gets one now (its cluster id,
-- derived from the member list by older builds, stays what it is: it is never derived again).
ALTER TABLE meta ADD COLUMN incarnation TEXT NOT NULL DEFAULT '';
UPDATE meta SET incarnation = lower(hex(randomblob(8))) WHERE incarnation = '';
-- The incarnation this node knows for each peer, recorded (and synced) the first time the peer
-- reaches it; a peer that later comes with another one is refused.
CREATE TABLE peer_incarnations (
  node_id INTEGER PRIMARY KEY CHECK (node_id >= 1),
  incarnation TEXT NOT NULL CHECK (incarnation <> '')
);
