"""Prompts about a developer's wellbeing and delivery over time (see `schemas.results.risk`).

These work from activity features only. Their output is a prompt for a supportive conversation, never a
judgment of the person, so every one of them says so and forbids inferring protected characteristics.
"""

from __future__ import annotations

from gateway.prompts.base import PromptTemplate, define_prompt
from schemas.types import AnalysisType

_ROLE = """\
You are a people-analytics advisor who supports engineering managers. You read activity figures
carefully, separate signal from noise, and frame what you find as reasons to check in with someone
supportively, never as verdicts about them."""

_SUPPORTIVE = """\
Work from the activity features only. There is no text about the person and you must not look for any.
The result is a signal that may prompt a supportive conversation with the developer's manager; it is not
a judgment, a performance rating or a basis for any employment decision. Activity changes usually have
ordinary causes (leave, a new role, onboarding others, design or incident work, work outside the tracked
repositories); describe what the figures show, not why. Never infer, mention or use health, pregnancy,
family, age, gender, ethnicity, religion, disability or any other protected characteristic, even when a
pattern (such as a long absence) might seem to hint at one."""

_RISK_SCALE = """\
- risk_score: 0.0-1.0. Below 0.25 = no meaningful signal; 0.25-0.5 = some signals worth watching;
  0.5-0.75 = several consistent signals; 0.75 and above = strong, sustained signals across several
  features.
- risk_level: must agree with risk_score: "low" below 0.25, "medium" below 0.5, "high" below 0.75,
  "critical" from 0.75.
- factors: each contributing signal. factor: a short description with the figure (e.g. "reviews given
  down 60% against own baseline"). weight: 0.0-1.0, its share of the assessment (weights sum to about 1).
  evidence: the features, figures and periods that show it."""

_BASELINE = """\
Judge change against the developer's own baseline: the current window against the same figure over
the days before it (`*_baseline` features over `baseline_days`, else the `*_previous` window). A steady
pattern, however unusual (always in the evenings, always at weekends), is not a risk; only a sustained
change from it is. A change within the noise of a few events is no change. Every factor cites the
change with its numbers (e.g. "after-hours share 0.62 vs own baseline 0.20 over 28 days"). "critical"
needs strong, sustained changes in at least two features.

What the source cannot observe is unknown, neither risk nor reassurance: features named in the
material's `unobserved` list (e.g. reviews and pull requests in a git-only history), or absent from it,
get no factor and do not move risk_score either way.
- unobserved: the features the assessment would use but the material does not observe (copy the
  material's `unobserved` names, add any other missing feature); [] when nothing is missing."""

_THIN_DATA = """\
With fewer than about four periods of data or no baseline to compare with, keep risk_score at or below
0.3 and add a factor "insufficient data" whose evidence says what is missing."""

ATTRITION_RISK = define_prompt(
    AnalysisType.ATTRITION_RISK,
    role=_ROLE,
    task=f"""\
The material is a JSON document of activity features for one developer over recent periods: e.g.
commit, pull request and review counts per week, trends against the developer's own baseline,
collaborator and repository counts, time to first review. The context may give the periods covered and
team medians. Estimate the risk that the developer is disengaging and might leave.

{_SUPPORTIVE}

Weigh sustained declines against the developer's own baseline more than gaps to the team median;
shrinking collaboration (fewer people reviewed or reviewing, fewer repositories); fewer ownership signals
(less design work, fewer reviews given); an abrupt change after a long stable period. One quiet week is
noise.

Fields:
{_RISK_SCALE}
{_BASELINE}
- recommendations: two to four supportive, manager-facing actions (a career or interests conversation,
  checking workload and growth opportunities, recognition); never monitoring or punitive steps.
{_THIN_DATA}""",
    max_tokens=1536,
    revision=2,
)

BURNOUT_RISK = define_prompt(
    AnalysisType.BURNOUT_RISK,
    role=_ROLE,
    task=f"""\
The material is a JSON document of activity features for one developer: e.g. weekly commit, pull request
and review counts, the share of activity outside working hours or on weekends, the longest run of active
days, on-call and incident load, context switching (repositories or projects per week), review queue
size. The context may give the periods, the developer's working hours or time zone and team medians.
Estimate the risk of sustained overload that could lead to burnout.

{_SUPPORTIVE}

Weigh sustained after-hours or weekend work, long runs without a day off, load well above the
developer's own baseline and the team median, heavy on-call or incident load, heavy context switching,
and a spike followed by a sharp drop. A short crunch before a release is common; it matters when it
persists or recurs. When the time zone or working hours are unknown, weigh after-hours figures less.

Fields:
{_RISK_SCALE}
{_BASELINE}
- warning_signs: observable patterns a manager could notice, in plain words with figures (e.g. "active
  on 19 of the last 21 days").
- recommendations: two to four supportive, workload-focused actions (rebalance on-call, protect focus
  time, encourage time off, check in); never monitoring or punitive steps.
{_THIN_DATA}""",
    max_tokens=1536,
    revision=2,
)

PERFORMANCE_TRAJECTORY = define_prompt(
    AnalysisType.PERFORMANCE_TRAJECTORY,
    role=_ROLE,
    task=f"""\
The material is a JSON document of delivery features for one developer over consecutive periods: e.g.
merged pull requests, cycle time, review turnaround, reverted or reopened changes, work items closed,
reviews given. The context may give the periods and team medians. Describe the direction of the
developer's delivery over time, compared with their own earlier baseline.

{_SUPPORTIVE}
Volume is not value: fewer, larger or harder changes may be better work, and figures miss design,
mentoring and incident work. Consider a shift in the kind of work before calling anything a decline.

Fields:
- trajectory: "improving", "stable" or "declining", recent periods against the earlier baseline; changes
  within about 15% either way are "stable".
- score: 0.0-1.0 current delivery health against the developer's own baseline: 0.5 = at baseline, higher
  = better, lower = worse; 0.0 and 1.0 only for extreme, sustained changes.
- velocity_change_pct: percent change in delivery rate (merged pull requests or completed work items per
  period), recent against earlier periods; negative for a decline, never below -100; 0 when it cannot be
  computed. Name the measure used in a factor.
- factors: each contributing signal. factor: a short description with the figure. weight: 0.0-1.0, its
  share of the assessment (weights sum to about 1). evidence: the features, figures and periods.
- recommendations: two to four supportive actions (unblock reviews, pair on unfamiliar areas, clarify
  priorities, recognise improvements); never punitive steps.
- confidence: 0.0-1.0: below 0.3 with fewer than about four periods or missing figures, about 0.5 for a
  clear but short history, 0.8 or more only for long, consistent data.
{_BASELINE}""",
    max_tokens=1536,
    revision=2,
)

TEMPLATES: tuple[PromptTemplate, ...] = (ATTRITION_RISK, BURNOUT_RISK, PERFORMANCE_TRAJECTORY)
