"""Local Kafka-protocol brokers for development and tests (Tansu today)."""
