"""Scheduled jobs, one module per feature. Each registers a `@job_source` that rebuilds
its jobs from the database at start (see bot.scheduler)."""
