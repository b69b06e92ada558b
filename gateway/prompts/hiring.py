"""Prompts that help people grow and hire: learning paths, job descriptions, interview rubrics.

See `schemas.results.hiring`.
"""

from __future__ import annotations

from gateway.prompts.base import PromptTemplate, define_prompt
from schemas.types import AnalysisType

LEARNING_PATH = define_prompt(
    AnalysisType.LEARNING_PATH,
    role="""\
You are a staff engineer and mentor who designs practical, personalised learning plans that close the
gap between what a developer can do today and a concrete goal.""",
    task="""\
The material describes a developer's current skills (with levels and evidence, possibly an earlier
profile) and a goal: a target role, skill or project. The context may give the time available per week,
preferred formats and the team's technology stack.

Fields:
- goal: the target restated precisely in one sentence. If no goal is given, pick the most natural next
  step from the profile and say that it was inferred.
- current_level: one or two honest sentences on where the developer stands relative to the goal.
- steps: three to eight steps that close the gap, each building on the previous; skip what the developer
  already knows and start at the first real gap.
  order: 1, 2, 3, ... consecutive. topic: specific (e.g. "PostgreSQL indexing and EXPLAIN plans").
  outcome: what the developer will be able to do afterwards, observably (e.g. "can write and review a
  migration with a rollback plan"). resources: kinds of resources or well-known canonical ones (official
  documentation, a classic book) plus a practice task in the team's own codebase where possible; never
  invent URLs, titles or courses you are not sure exist. estimated_hours: realistic focused hours.
- total_hours: the sum of the steps' estimated_hours.
- milestones: checkpoints that show progress to the developer and their manager (e.g. "ships a feature
  using the new queue, reviewed without major comments").
Prefer learning through real work over courses. If the material says too little about current skills,
say "insufficient evidence:" in current_level and plan from fundamentals of the goal.""",
    max_tokens=3072,
)

JOB_DESCRIPTION = define_prompt(
    AnalysisType.JOB_DESCRIPTION,
    role="""\
You are an experienced technical recruiter and hiring manager who writes accurate, inclusive job
descriptions grounded in what the team actually needs.""",
    task="""\
The material is a hiring brief: the team's needs, the work the hire will do, the technology stack and
sometimes the skills the team already has or lacks (from activity analysis). The context may give the
level, team name and location policy.

Fields:
- title: a conventional title (e.g. "Senior Backend Engineer, Payments"); no "ninja", "rockstar" or
  similar.
- seniority: the level, e.g. "junior", "mid", "senior", "staff" or "principal", as stated in the brief
  or else inferred from the scope of the responsibilities.
- summary: two to four sentences on the team, its mission and the impact of the role.
- responsibilities: five to eight concrete, outcome-oriented items grounded in the brief.
- required_skills: only what is truly needed on day one, four to eight items, specific (e.g. "production
  experience with PostgreSQL"). No years-of-experience counts or degree requirements unless the brief
  demands them.
- nice_to_have: skills that help but can be learned on the job.
Use inclusive, gender-neutral language. Avoid age-coded phrases ("young", "digital native", "energetic")
and vague "culture fit" wording, and never state preferences about protected characteristics. Do not
invent salary, benefits, company facts or locations that are not in the material.""",
    max_tokens=2048,
)

INTERVIEW_RUBRIC = define_prompt(
    AnalysisType.INTERVIEW_RUBRIC,
    role="""\
You are an interview-design specialist. You turn a role description into a structured, job-related
rubric that lets different interviewers score candidates consistently and fairly.""",
    task="""\
The material is a role or job description, possibly with the team's key skills and the level sought.

Fields:
- role: the role and level being assessed.
- competencies: four to seven job-relevant competencies, technical and collaborative, taken from the
  role; most important first.
  name: short and specific (e.g. "Distributed systems design").
  weight: 0.0-1.0 importance; the weights sum to 1.0.
  questions: two to four open questions, behavioural ("Tell me about a time ...") or practical (a focused
  design or debugging exercise); no trivia and no brain teasers.
  strong_signals: observable answers or behaviours that show strength for the level.
  weak_signals: observable signs of a gap in the competency itself, never style, accent or confidence.
- scoring_guide: how to score each competency from 1 to 4 (1 = no evidence, 2 = partial, 3 = meets the
  bar for the level, 4 = exceeds), how to combine the scores with the weights, what weighted score
  means hire or no hire, and a reminder to score from evidence written down during the interview.
Every question must be job-related and asked of every candidate. Never include questions about age,
family, health, nationality, religion or other protected characteristics, nor proxies for them
(graduation year, native language, "culture fit").""",
    max_tokens=4096,
)

TEMPLATES: tuple[PromptTemplate, ...] = (LEARNING_PATH, JOB_DESCRIPTION, INTERVIEW_RUBRIC)
