"""Generating the checked-in JSON Schemas (`schemas/json/`) that dashboard teams code against.

`aexy-stream schemas export` writes them; `aexy-stream schemas check` (and a test) fails when a
model changed and the files were not regenerated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from schemas.envelope import AnalysisResult
from schemas.events import ActivityEvent, CodeChangeEvent
from schemas.identity import IdentityMerged
from schemas.request import AnalysisRequest
from schemas.results import RESULT_MODELS

JSON_DIR = Path(__file__).parent / "json"
_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def documents() -> dict[str, dict[str, Any]]:
    """Relative file name -> JSON Schema."""
    docs: dict[str, dict[str, Any]] = {"analysis_request.schema.json": AnalysisRequest.model_json_schema()}
    for analysis_type, model in RESULT_MODELS.items():
        docs[f"results/{analysis_type}.schema.json"] = model.model_json_schema()
        envelope = AnalysisResult[model]  # type: ignore[valid-type]
        docs[f"envelopes/{analysis_type}.schema.json"] = envelope.model_json_schema()
    docs["events/activity_event.schema.json"] = ActivityEvent.model_json_schema()
    docs["events/code_change_event.schema.json"] = CodeChangeEvent.model_json_schema()
    docs["identity_merged.schema.json"] = IdentityMerged.model_json_schema()
    docs["analysis_result.schema.json"] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "AnalysisResult",
        "description": "Any record of analysis.results: the envelope of one of the analysis types.",
        "oneOf": [{"$ref": f"envelopes/{t}.schema.json"} for t in RESULT_MODELS],
    }
    return docs


def render(doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc, option=_OPTIONS)


def export(directory: Path = JSON_DIR) -> list[Path]:
    written = []
    for name, doc in documents().items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render(doc))
        written.append(path)
    return written


def stale(directory: Path = JSON_DIR) -> list[str]:
    """Files that are missing or differ from what the models generate now."""
    return [
        name
        for name, doc in documents().items()
        if not (directory / name).is_file() or (directory / name).read_bytes() != render(doc)
    ]
