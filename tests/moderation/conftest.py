"""The console world (real app, virtual time) for the audit tests."""

from tests.console.conftest import console  # noqa: F401  (the fixture, shared)
