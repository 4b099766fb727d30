"""What FastStream leaves to us on Redis streams: retries, reclaim, dead letters, trimming."""
