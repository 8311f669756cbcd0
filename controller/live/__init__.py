"""Live: the event log and its feed, SSE streams, the ZeroMQ publisher for subscribers, and output events."""
