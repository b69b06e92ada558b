"""The Kafka records of one delivery: the raw payload on `github.activity`, code changes on `code.changes`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from consumers.headers import GITHUB_DELIVERY, GITHUB_EVENT
from producers.kafka import Record
from producers.webhook.delivery import Delivery, text_at
from schemas.events.code_change import CodeChangeEvent


def activity_record(delivery: Delivery, topic: str) -> Record:
    """The body untouched; headers name the event and the delivery."""
    headers = ((GITHUB_EVENT, delivery.event.encode()), (GITHUB_DELIVERY, delivery.delivery_id.encode()))
    return Record(topic, delivery.body, partition_key(delivery.payload), headers)


def partition_key(payload: Mapping[str, Any]) -> bytes | None:
    """Repository full name, else organization login, else sender login, else none (any partition)."""
    for owner, field in (("repository", "full_name"), ("organization", "login"), ("sender", "login")):
        value = text_at(payload.get(owner), field)
        if value:
            return value.encode()
    return None


def code_change_record(event: CodeChangeEvent, value: bytes, topic: str, delivery_id: str) -> Record:
    """`value`: the event's JSON as fitted to MAX_EVENT_BYTES (`producers.fitting`)."""
    headers = ((GITHUB_DELIVERY, delivery_id.encode()),)
    return Record(topic, value, event.repository.encode(), headers)
