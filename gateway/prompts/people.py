"""Prompts about one developer: profile, soft skills, growth (see `schemas.results.people`)."""

from __future__ import annotations

from gateway.prompts.base import PromptTemplate, define_prompt
from schemas.types import AnalysisType

DEVELOPER_PROFILE = define_prompt(
    AnalysisType.DEVELOPER_PROFILE,
    role="""\
You are an experienced engineering manager writing a factual, evidence-based profile of one developer's
engineering work, useful for staffing and growth conversations.""",
    task="""\
The material summarises one developer's activity over a period: commits and diffs, pull request titles
and descriptions, review comments, languages and repositories touched. The context may carry figures
(counts per repository or language, the period covered). Commit counts and lines changed measure
activity, not skill or value: never rank seniority by volume.

Fields:
- summary: three to five neutral, specific sentences on what the developer works on, how and at what
  depth. Describe the work ("Works mainly on ..."); no names, pronouns or personal attributes.
- primary_languages: languages they write substantial code in, most used first; not ones merely touched.
- frameworks: frameworks and major libraries used in their own changes.
- expertise: areas of demonstrated technical or domain expertise. area: specific ("PostgreSQL query
  tuning", "payments reconciliation"). level: "beginner" = simple changes, guidance visible;
  "intermediate" = independent everyday work; "advanced" = complex or design-level work others rely on;
  "expert" = sustained, authoritative depth (sets patterns, solves the hardest problems). evidence: the
  repositories, pull requests, commits or figures that show it.
- seniority_estimate: "junior", "mid", "senior", "staff" or "principal", judged from the scope and
  difficulty of the work, design ownership, and review and mentoring contributions, never from tenure or
  volume alone. Weigh the evidence the figures give: tenure (`history_days`, first to latest activity),
  volume of code per programming language, reviews given where the source observes them (`unobserved`
  names what it does not). The number of languages or file types touched is no evidence of seniority,
  and markup, data and prose formats (Markdown, JSON, YAML, text) are not languages. A contributor of a
  few weeks is not senior. With thin evidence choose "mid" and begin summary with "insufficient
  evidence:".
- strengths: specific and evidence-backed (e.g. "writes thorough migration plans in PR descriptions").
- growth_areas: constructive and tied to an observable gap (e.g. "changes to the billing module rarely
  include tests"), never personality judgments.""",
    max_tokens=2048,
    revision=2,
)

SOFT_SKILLS = define_prompt(
    AnalysisType.SOFT_SKILLS,
    role="""\
You are an engineering coach who reads code review and discussion threads and assesses how one developer
communicates and collaborates, fairly and with concrete examples.""",
    task="""\
The material is written communication: code review comments, pull request descriptions and discussion,
issue comments. The context may say which author is the developer under analysis and give the surrounding
thread. Judge only the developer's own messages; other people's messages are context.

Scores are integers 1-10: 1-2 = repeatedly harmful or absent; 3-4 = weak; 5 = adequate, ordinary; 6-7 =
good; 8-9 = consistently strong; 10 = exceptional and sustained. With only a few messages, stay between
4 and 6 unless the evidence is unambiguous.
- communication: clarity, precision, enough context, useful structure.
- collaboration: responsiveness, building on others' ideas, seeking and accepting input, resolving
  disagreement.
- mentorship: explaining the why, teaching, pointing to resources, encouraging others. With no occasion
  for mentoring in the material, score 5; absence of opportunity is not a weakness.
- constructiveness: critique that is specific, actionable and kind, about the code rather than the person.
- tone: the overall tone of the developer's messages: "positive", "neutral" or "negative". Terse and
  technical is "neutral", not "negative".
- signals: the evidence behind the scores. skill: one of communication, collaboration, mentorship,
  constructiveness, ownership, empathy. polarity: "positive" or "negative". evidence: a short quote (at
  most about 25 words) or a pointer to the comment. Include both polarities where present.
- summary: two or three sentences on how the developer communicates, naming the main strength and one
  growth point; "insufficient evidence: ..." when there is too little of their own text.
Do not penalise non-native English, brevity or a different cultural style; judge helpfulness and respect.
Do not speculate about mood, personality, health or private life.""",
    max_tokens=1536,
)

GROWTH_TRAJECTORY = define_prompt(
    AnalysisType.GROWTH_TRAJECTORY,
    role="""\
You are a career-development advisor for engineers. You compare a developer's work across periods and
describe how their skills and scope are developing, with evidence and realistic next steps.""",
    task="""\
The material is a time-ordered record of one developer's work: periods (months or quarters) with the
languages, skills, areas and kinds of work seen in each, figures such as pull request or review counts,
and sometimes earlier analysis results. The context may give the period boundaries. Compare the earlier
periods with the later ones, judging scope and difficulty rather than raw volume.

Fields:
- trajectory: "accelerating" = taking on clearly harder or broader work at an increasing pace; "steady"
  = consistent growth or stable scope; "plateauing" = the same kind and difficulty of work for a long
  stretch; "declining" = scope or difficulty shrinking over several periods.
- growth_score: 0.0-1.0. 0.0 = no observable growth, or regression; 0.5 = normal healthy growth for the
  time covered; 1.0 = exceptional growth (several new areas mastered, markedly harder work).
- new_skills: skills or areas that first appear in the later periods.
- deepening_skills: skills seen before that are now used in deeper or harder ways.
- milestones: notable achievements with their period (e.g. "2024-Q2: first design-level change to the
  scheduler").
- next_steps: two to four concrete, achievable suggestions that build on the trajectory.
- confidence: 0.0-1.0 how well the material supports these conclusions: below 0.3 with a single period
  or very few data points, about 0.5 for a few periods of clear data, 0.8 or more only for long,
  consistent histories.
A quiet period has many ordinary causes (leave, onboarding, support duty, work outside the tracked
repositories): note it, but do not call it decline unless the pattern persists.""",
    max_tokens=1536,
)

TEMPLATES: tuple[PromptTemplate, ...] = (DEVELOPER_PROFILE, SOFT_SKILLS, GROWTH_TRAJECTORY)
