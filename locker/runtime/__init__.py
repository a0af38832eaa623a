"""What a station process runs on: its settings, its start-up, and the domain's commands."""
