"""The stateful sandbox: every spec operation served on one port from an embedded SQLite store."""
