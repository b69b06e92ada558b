"""Typed messages of the pipeline: requests, results, envelopes (JSON Schemas in `schemas/json/`)."""

from schemas.envelope import SCHEMA_VERSION, AnalysisResult, SourceRef
from schemas.request import AnalysisRequest
from schemas.results import RESULT_MODELS, result_model
from schemas.types import AnalysisType, Priority

__all__ = [
    "RESULT_MODELS",
    "SCHEMA_VERSION",
    "AnalysisRequest",
    "AnalysisResult",
    "AnalysisType",
    "Priority",
    "SourceRef",
    "result_model",
]
