"""Which provider the demo uses, and why: Claude with a key, else Ollama if it answers, else `rules`.

Claude and Ollama fall back to `rules`, so a wrong key or a model that fails still ends every
request in a result; each result says which provider made it.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

PROBE_TIMEOUT_S = 1.0
FALLBACK = "rules"


@dataclass(frozen=True, slots=True)
class ProviderChoice:
    name: str
    reason: str
    fallbacks: tuple[str, ...] = ()

    def line(self) -> str:
        also = f"; falls back to {', '.join(self.fallbacks)}" if self.fallbacks else ""
        return f"provider: {self.name} ({self.reason}{also})"


@dataclass(frozen=True, slots=True)
class Candidates:
    """What the environment offers (from settings)."""

    anthropic_key_set: bool
    ollama_base_url: str
    ollama_model: str
    timeout_s: float = PROBE_TIMEOUT_S


async def choose_provider(candidates: Candidates, http: httpx.AsyncClient) -> ProviderChoice:
    if candidates.anthropic_key_set:
        return ProviderChoice("claude", "ANTHROPIC_API_KEY is set", (FALLBACK,))
    missing = await ollama_missing(candidates, http)
    if not missing:
        reason = f"model {candidates.ollama_model} at {candidates.ollama_base_url}"
        return ProviderChoice("ollama", reason, (FALLBACK,))
    return ProviderChoice(FALLBACK, f"keyless, runs locally: no ANTHROPIC_API_KEY, and {missing}")


async def ollama_missing(candidates: Candidates, http: httpx.AsyncClient) -> str:
    """Why Ollama cannot serve the demo ("" when it can): GET /api/tags lists the model."""
    url = f"{candidates.ollama_base_url.rstrip('/')}/api/tags"
    try:
        response = await http.get(url, timeout=candidates.timeout_s)
    except httpx.HTTPError as exc:
        return f"no Ollama answered at {candidates.ollama_base_url} ({type(exc).__name__})"
    if not response.is_success:
        return f"Ollama at {candidates.ollama_base_url} answered HTTP {response.status_code}"
    if not _has_model(response, candidates.ollama_model):
        model = candidates.ollama_model
        return f"Ollama at {candidates.ollama_base_url} has no model {model} (`ollama pull {model}`)"
    return ""


def _has_model(response: httpx.Response, model: str) -> bool:
    try:
        listed = response.json().get("models") or []
    except (ValueError, AttributeError):
        return False
    wanted = {model, f"{model}:latest"}
    return any(isinstance(m, dict) and wanted & {m.get("name"), m.get("model")} for m in listed)
