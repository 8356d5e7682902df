-- Timelines now keep a case's latest agent and its waits on the customer (the resolution
-- clock's pauses). Timelines folded before then have neither, so every plan's timelines are
-- folded again from their events, as after 0004: the first read of a plan's figures (or its
-- background fold) rebuilds them, in transactions of bounded size.
DELETE FROM case_timelines;
UPDATE plan_activity SET folded = 0;
