"""One structured JSON log line per analysis. Never carries content or credentials."""

from __future__ import annotations

import logging
from typing import Any

import orjson

log = logging.getLogger("aexy.gateway")


def analysis_logged() -> bool:
    return log.isEnabledFor(logging.INFO)


def analysis_line(**fields: Any) -> None:
    if analysis_logged():
        log.info(orjson.dumps({"event": "analysis", **fields}).decode())


class JsonFormatter(logging.Formatter):
    """Lines that are already JSON pass through; others are wrapped."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if message.startswith("{"):
            return message
        return orjson.dumps({"level": record.levelname, "logger": record.name, "message": message}).decode()
