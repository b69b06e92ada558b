"""Team health from contributor shares and team-level activity figures.

Figures (context, or a JSON object in content):

* `contributors`: list of `{developer, commits_share}` (`name`/`login` and `share`/`commits` are
  accepted too), or `commit_shares`: `{developer: share}` or a list of numbers. Shares or raw
  commit counts both work: they are normalised to sum to 1.
* `collaboration_breadth` (mean distinct collaborators per person), `prs_per_week_current`,
  `reviews_per_week_current`, `after_hours_share`, `weekend_share` (see `activity`).

Formulas:

* bus factor = the smallest number of contributors whose shares add up to more than 50 % (0 when
  nobody is known);
* workload balance = normalised Shannon entropy of the shares, H / ln(n) (0 for one person);
* collaboration = mean of min(collaboration_breadth / 5, 1) and min(reviews / PRs per week, 1),
  over the figures known;
* health = 0.35 * min(bus factor / 3, 1) + 0.25 * balance + 0.25 * collaboration
  + 0.15 * (1 - ramp(after_hours_share + weekend_share, 0.15 -> 0.60)); each unknown part counts
  as a neutral 0.5. Levels: >= 0.7 healthy, >= 0.5 watch, >= 0.3 at_risk, else critical.

Each part is reported as a `RiskFactor` whose weight is what it costs the score,
weight * (1 - part), for the parts that are missing or below 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import mean
from typing import Any, Literal

from gateway.providers.rules.activity import ramp
from gateway.providers.rules.inputs import (
    clamp,
    count,
    dict_list,
    fmt,
    item_name,
    merge_facts,
    number,
    share,
    text,
)
from schemas.request import AnalysisRequest
from schemas.results.base import RiskFactor
from schemas.results.team import TeamHealthResult

HealthLevel = Literal["healthy", "watch", "at_risk", "critical"]

NEUTRAL = 0.5
HEALTHY_BUS_FACTOR = 3
HEALTHY_BREADTH = 5.0
SHARE_KEYS: tuple[str, ...] = ("commits_share", "share", "commit_share", "commits")
HEALTH_LEVELS: tuple[tuple[float, HealthLevel], ...] = ((0.7, "healthy"), (0.5, "watch"), (0.3, "at_risk"))
WEIGHTS: Mapping[str, float] = {
    "bus_factor": 0.35,
    "workload_balance": 0.25,
    "collaboration": 0.25,
    "off_hours": 0.15,
}


def _share_of(item: Mapping[str, Any]) -> float | None:
    for key in SHARE_KEYS:
        value = count(item, key)
        if value is not None:
            return value
    return None


def _from_contributors(value: Any) -> dict[str, float]:
    shares: dict[str, float] = {}
    for index, item in enumerate(dict_list(value), 1):
        amount = _share_of(item)
        if amount is not None:
            shares[item_name(item) or f"contributor {index}"] = amount
    return shares


def _from_commit_shares(value: Any) -> dict[str, float]:
    if isinstance(value, Mapping):
        pairs = [(text(k), number(v)) for k, v in value.items()]
    elif isinstance(value, list | tuple) and not dict_list(value):
        pairs = [(f"contributor {i}", number(v)) for i, v in enumerate(value, 1)]
    else:
        return _from_contributors(value)
    return {name: max(v, 0.0) for name, v in pairs if v is not None}


def commit_shares(facts: Mapping[str, Any]) -> dict[str, float]:
    """Normalised shares per contributor, largest first (ties by name)."""
    raw = _from_contributors(facts.get("contributors")) or _from_commit_shares(facts.get("commit_shares"))
    grand = sum(raw.values())
    if grand <= 0:
        return {}
    ordered = sorted(raw.items(), key=lambda kv: (-kv[1], kv[0]))
    return {name: amount / grand for name, amount in ordered}


def bus_factor(shares: Mapping[str, float]) -> int:
    """The smallest number of contributors covering more than half of the commits."""
    covered = 0.0
    for rank, amount in enumerate(sorted(shares.values(), reverse=True), 1):
        covered += amount
        if covered > 0.5:
            return rank
    return 0


def workload_balance(shares: Mapping[str, float]) -> float | None:
    values = [v for v in shares.values() if v > 0]
    if not values:
        return None
    if len(values) == 1:
        return 0.0
    entropy = -sum(v * math.log(v) for v in values)
    return clamp(entropy / math.log(len(values)))


def collaboration(facts: Mapping[str, Any]) -> float | None:
    parts: list[float] = []
    breadth = count(facts, "collaboration_breadth")
    if breadth is not None:
        parts.append(min(breadth / HEALTHY_BREADTH, 1.0))
    prs, reviews = count(facts, "prs_per_week_current"), count(facts, "reviews_per_week_current")
    if prs and reviews is not None:
        parts.append(min(reviews / prs, 1.0))
    return mean(parts) if parts else None


def off_hours_health(facts: Mapping[str, Any]) -> float | None:
    after, weekend = share(facts, "after_hours_share"), share(facts, "weekend_share")
    if after is None or weekend is None:
        return None
    return 1 - (ramp(after + weekend, 0.15, 0.60) or 0.0)


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    value: float | None
    evidence: str

    @property
    def score(self) -> float:
        return NEUTRAL if self.value is None else self.value

    def risk(self) -> RiskFactor:
        shown = "n/a (neutral 0.5)" if self.value is None else f"{self.value:.2f}"
        weight = round(WEIGHTS[self.name] * (1 - self.score), 3)
        evidence = f"rules: {self.evidence}; health {shown} x weight {WEIGHTS[self.name]:.2f}"
        return RiskFactor(factor=self.name, weight=weight, evidence=evidence)


def parts(facts: Mapping[str, Any]) -> list[Part]:
    shares = commit_shares(facts)
    bus = bus_factor(shares)
    top = next(iter(shares.items()), None)
    top_text = f"; top contributor {top[0]} has {top[1]:.0%}" if top else ""
    balance = workload_balance(shares)
    collab, off = collaboration(facts), off_hours_health(facts)
    return [
        Part(
            "bus_factor",
            min(bus / HEALTHY_BUS_FACTOR, 1.0) if shares else None,
            f"bus factor {bus}{top_text}",
        ),
        Part("workload_balance", balance, f"share evenness {fmt(balance)} over {len(shares)} contributor(s)"),
        Part("collaboration", collab, f"collaboration breadth/review coverage score {fmt(collab)}"),
        Part("off_hours", off, f"after-hours + weekend health {fmt(off)}"),
    ]


def health_level(score: float) -> HealthLevel:
    for threshold, level in HEALTH_LEVELS:
        if score >= threshold:
            return level
    return "critical"


ADVICE: Mapping[str, str] = {
    "bus_factor": "rules: spread knowledge: pair on and rotate ownership of the most-changed areas.",
    "workload_balance": "rules: rebalance work; a few people carry most of the commits.",
    "collaboration": "rules: raise review coverage and cross-team reviews.",
    "off_hours": "rules: reduce off-hours work; check release and on-call practices.",
}


def _recommendations(team: list[Part]) -> list[str]:
    advice = [ADVICE[p.name] for p in team if p.value is not None and p.value < NEUTRAL]
    if any(p.value is None for p in team):
        advice.append("rules: some team figures were missing and counted as neutral 0.5.")
    return advice or ["rules: no team health risk found by the rules."]


def analyze_team_health(request: AnalysisRequest) -> TeamHealthResult:
    facts = merge_facts(request.content, request.context)
    team = parts(facts)
    score = round(clamp(sum(WEIGHTS[p.name] * p.score for p in team)), 3)
    by_name = {p.name: p for p in team}
    return TeamHealthResult(
        health_score=score,
        health_level=health_level(score),
        bus_factor=bus_factor(commit_shares(facts)),
        collaboration_score=round(by_name["collaboration"].score, 3),
        workload_balance=round(by_name["workload_balance"].score, 3),
        risks=[p.risk() for p in team if p.value is None or p.value < 1.0],
        recommendations=_recommendations(team),
    )
