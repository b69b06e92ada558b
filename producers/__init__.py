"""Producers: get events into Kafka from where they are (webhooks, git history, archives, replay)."""
