"""The store: SQLite through one writer, jobs, policies and the quota ledger."""
