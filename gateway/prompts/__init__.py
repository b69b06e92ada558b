"""Versioned prompts, one per analysis type, with untrusted material fenced as data."""

from gateway.prompts.base import PromptTemplate, RenderedPrompt, repair_message
from gateway.prompts.registry import PROMPTS, prompt_for

__all__ = ["PROMPTS", "PromptTemplate", "RenderedPrompt", "prompt_for", "repair_message"]
