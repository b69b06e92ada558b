"""Backfills: history (a git repository, GH Archive files) published to the backfill lane topics."""
