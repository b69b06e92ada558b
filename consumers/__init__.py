"""The stream processor: Kafka consumers that turn events into analyses and publish typed results."""
