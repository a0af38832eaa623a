"""Hooks and stand-ins for tests and benches: in-memory locks, named crash points."""
