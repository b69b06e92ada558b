"""The vocabulary shared by every message: analysis types and request priorities."""

from enum import StrEnum
from typing import Literal


class AnalysisType(StrEnum):
    """The fifteen analyses of the design, one result model each (see `schemas.results`)."""

    CODE_QUALITY = "code_quality"
    CODE_COMPLEXITY = "code_complexity"
    SKILL_EXTRACTION = "skill_extraction"
    DEVELOPER_PROFILE = "developer_profile"
    SOFT_SKILLS = "soft_skills"
    GROWTH_TRAJECTORY = "growth_trajectory"
    TASK_SIGNALS = "task_signals"
    TASK_MATCHING = "task_matching"
    ATTRITION_RISK = "attrition_risk"
    BURNOUT_RISK = "burnout_risk"
    PERFORMANCE_TRAJECTORY = "performance_trajectory"
    TEAM_HEALTH = "team_health"
    LEARNING_PATH = "learning_path"
    JOB_DESCRIPTION = "job_description"
    INTERVIEW_RUBRIC = "interview_rubric"


Priority = Literal["live", "backfill"]
"""`live` analysis is never starved; `backfill` may use only a share of each rate budget."""
