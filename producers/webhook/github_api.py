"""Commit diffs for the code changes of a push: from the GitHub REST API with a token, else none.

`with_diffs` never fails a delivery: a failed call (status, network, bad body) keeps the commit without
patches, and whatever is not fetched within the budget goes out without patches too; each is counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Protocol

import httpx

from producers.webhook.api_commit import ApiCommit, with_api_detail
from producers.webhook.config import GitHubApiConfig
from schemas.events.code_change import CodeChangeEvent


class DiffSource(Protocol):
    async def with_diffs(self, events: Sequence[CodeChangeEvent]) -> list[CodeChangeEvent]:
        """The events in the same order, each with its patches where they could be fetched."""
        ...


class NoDiffs:
    """No token configured: the commits as the webhook described them."""

    async def with_diffs(self, events: Sequence[CodeChangeEvent]) -> list[CodeChangeEvent]:
        return list(events)


class GitHubDiffs:
    def __init__(
        self,
        http: httpx.AsyncClient,
        config: GitHubApiConfig,
        on_outcome: Callable[[str], None] = lambda _outcome: None,
    ) -> None:
        self._http = http
        self._config = config
        self._on_outcome = on_outcome
        self._slots = asyncio.Semaphore(config.concurrency)
        self._headers = {
            "Authorization": f"Bearer {config.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": config.api_version,
        }

    async def with_diffs(self, events: Sequence[CodeChangeEvent]) -> list[CodeChangeEvent]:
        if not events:
            return []
        tasks = [asyncio.create_task(self._one(event)) for event in events]
        _done, pending = await asyncio.wait(tasks, timeout=self._config.budget_s)
        for task in pending:
            task.cancel()
            self._on_outcome("timeout")
        await asyncio.gather(*pending, return_exceptions=True)
        return [
            event if task in pending else task.result() for task, event in zip(tasks, events, strict=True)
        ]

    async def _one(self, event: CodeChangeEvent) -> CodeChangeEvent:
        async with self._slots:
            try:
                detailed = with_api_detail(event, await self._commit(event.repository, event.sha))
            except (httpx.HTTPError, ValueError):
                self._on_outcome("failed")
                return event
        self._on_outcome("fetched")
        return detailed

    async def _commit(self, repository: str, sha: str) -> ApiCommit:
        url = f"{self._config.api_url.rstrip('/')}/repos/{repository}/commits/{sha}"
        response = await self._http.get(url, headers=self._headers, timeout=self._config.timeout_s)
        response.raise_for_status()
        return ApiCommit.model_validate_json(response.content)
