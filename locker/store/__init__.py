"""Storage: the SQLite file, its tables, queries and migrations, checks, backups and restore."""
