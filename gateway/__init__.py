"""The provider-agnostic LLM gateway: providers, prompts, cache, rate limits, retries, fallback, metrics."""
