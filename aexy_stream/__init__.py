"""aexy-stream: event-driven LLM analysis of engineering activity."""
