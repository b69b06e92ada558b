"""Where the activity state lives: in process memory, or in Redis shared by the consumer group."""
