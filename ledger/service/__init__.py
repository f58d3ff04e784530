"""The service layer: the one command path (unit of work, group-commit writer), the log's head,
ownership and wake-ups of followers, the feed hub, DORA and tokens."""
