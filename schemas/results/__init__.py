"""One typed result model per analysis type, and the table that maps one to the other."""

from types import MappingProxyType

from schemas.results.base import ResultModel, RiskFactor
from schemas.results.code import CodeComplexityResult, CodeQualityResult, SkillExtractionResult
from schemas.results.hiring import InterviewRubricResult, JobDescriptionResult, LearningPathResult
from schemas.results.people import DeveloperProfileResult, GrowthTrajectoryResult, SoftSkillsResult
from schemas.results.risk import AttritionRiskResult, BurnoutRiskResult, PerformanceTrajectoryResult
from schemas.results.tasks import TaskMatchingResult, TaskSignalsResult
from schemas.results.team import TeamHealthResult
from schemas.types import AnalysisType

RESULT_MODELS: MappingProxyType[AnalysisType, type[ResultModel]] = MappingProxyType(
    {
        AnalysisType.CODE_QUALITY: CodeQualityResult,
        AnalysisType.CODE_COMPLEXITY: CodeComplexityResult,
        AnalysisType.SKILL_EXTRACTION: SkillExtractionResult,
        AnalysisType.DEVELOPER_PROFILE: DeveloperProfileResult,
        AnalysisType.SOFT_SKILLS: SoftSkillsResult,
        AnalysisType.GROWTH_TRAJECTORY: GrowthTrajectoryResult,
        AnalysisType.TASK_SIGNALS: TaskSignalsResult,
        AnalysisType.TASK_MATCHING: TaskMatchingResult,
        AnalysisType.ATTRITION_RISK: AttritionRiskResult,
        AnalysisType.BURNOUT_RISK: BurnoutRiskResult,
        AnalysisType.PERFORMANCE_TRAJECTORY: PerformanceTrajectoryResult,
        AnalysisType.TEAM_HEALTH: TeamHealthResult,
        AnalysisType.LEARNING_PATH: LearningPathResult,
        AnalysisType.JOB_DESCRIPTION: JobDescriptionResult,
        AnalysisType.INTERVIEW_RUBRIC: InterviewRubricResult,
    }
)


def result_model(analysis_type: AnalysisType) -> type[ResultModel]:
    return RESULT_MODELS[analysis_type]


__all__ = [
    "RESULT_MODELS",
    "AttritionRiskResult",
    "BurnoutRiskResult",
    "CodeComplexityResult",
    "CodeQualityResult",
    "DeveloperProfileResult",
    "GrowthTrajectoryResult",
    "InterviewRubricResult",
    "JobDescriptionResult",
    "LearningPathResult",
    "PerformanceTrajectoryResult",
    "ResultModel",
    "RiskFactor",
    "SkillExtractionResult",
    "SoftSkillsResult",
    "TaskMatchingResult",
    "TaskSignalsResult",
    "TeamHealthResult",
    "result_model",
]
