-- The first slot this data directory may vote in. A node that joins an existing cluster with an
-- empty directory (serve --join) starts voting only in the slots its configuration governs: under
-- an id the cluster knew before, its empty log could otherwise answer for votes the old
-- directory cast in earlier slots (amnesia). 0: every slot (a member from the start).
ALTER TABLE meta ADD COLUMN votes_from INTEGER NOT NULL DEFAULT 0 CHECK (votes_from >= 0);
