-- Count rollups keep the hour and day grains only: the quarter-hour edges
-- of ranges in zones such as +05:30 and +05:45 (at most 45 minutes at each
-- end of a bucket) are read from the raw rows' time indexes, which costs
-- less than writing a third grain for every ingested event.
delete from count_rollups where grain = 0;
