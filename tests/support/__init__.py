"""Helpers run by tests in separate processes."""
