"""The job engine: admission, one job's run, polling plan, request budget and user-facing explanations."""
