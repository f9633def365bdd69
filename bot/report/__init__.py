"""The maintainers' report: figures read from the database, rendered as files."""
