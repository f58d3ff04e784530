"""The event store: eventsourcing's application and recorders, encryption at rest, and reads
of the stored past (moments, states as they were)."""
