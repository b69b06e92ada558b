"""deploy/grafana/dashboards/aexy-stream.json: valid, parseable PromQL, and only metrics the code exports.

The metric names come from real registries: `ProcessorMetrics`, `GatewayMetrics` and `WebhookMetrics`
are created on fresh `CollectorRegistry`s, so a renamed or removed metric fails here. Every expression is
parsed by `promql-parser` after Grafana's variables are replaced by values Prometheus would see.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import promql_parser
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from consumers.metrics import ProcessorMetrics
from gateway.metric_family import CounterFamily, Family, HistogramFamily
from gateway.metrics import GatewayMetrics
from producers.webhook.metrics import WebhookMetrics

from .files import DEPLOY

DASHBOARD = DEPLOY / "grafana" / "dashboards" / "aexy-stream.json"
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
}
TARGET_LABELS = {"instance", "job", "component"}
"""Labels Prometheus adds from the scrape configuration (deploy/prometheus/prometheus.yml)."""
REQUIRED_PANELS = (
    "aexy_stream_events_in_total",
    "aexy_stream_events_out_total",
    "aexy_stream_consumer_lag",
    "aexy_llm_latency_seconds_bucket",
    "aexy_stream_end_to_end_seconds_bucket",
    "aexy_llm_cache_lookups_total",
    "aexy_llm_tokens_total",
    "aexy_llm_cost_usd_total",
    "aexy_llm_errors_total",
    "aexy_stream_retries_total",
    "aexy_llm_retries_total",
    "aexy_stream_dead_letters_total",
    "aexy_stream_in_flight_calls",
    "aexy_stream_paused",
)


def exported() -> dict[str, set[str]]:
    """Every sample name the three components can export -> the label names it carries."""
    owners: tuple[Any, ...] = (
        ProcessorMetrics(CollectorRegistry()),
        GatewayMetrics(CollectorRegistry()),
        WebhookMetrics(CollectorRegistry()),
    )
    names: dict[str, set[str]] = {}
    for owner in owners:
        for family in owner.registry.collect():
            labels = labels_of(owner, family.name)
            for suffix in SUFFIXES[family.type]:
                names[family.name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
    return names


def labels_of(owner: object, name: str) -> set[str]:
    """The label names of the metric `name` among `owner`'s attributes.

    prometheus_client has no public accessor for an unused metric's label names (it exports no sample
    before a first `labels()` call), hence its `_name` and `_labelnames` attributes.
    """
    for value in vars(owner).values():
        if isinstance(value, CounterFamily | HistogramFamily) and value.name == name:
            return set(value.labelnames)
        metric = value.metric if isinstance(value, Family) else value
        if isinstance(metric, Counter | Gauge | Histogram) and metric._name == name:
            return set(metric._labelnames)
    raise AssertionError(f"no attribute of {type(owner).__name__} exports {name}")


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield from panel.get("panels", [])
        if panel["type"] != "row":
            yield panel


def expressions(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for panel in panels(dashboard):
        for target in panel["targets"]:
            yield panel["title"], target["expr"]


def parsed(expr: str) -> promql_parser.Expr:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return promql_parser.parse(expr)


def selectors(expr: promql_parser.Expr) -> list[promql_parser.VectorSelector]:
    found: list[promql_parser.VectorSelector] = []

    def visit(node: promql_parser.Expr) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)
        return True

    promql_parser.walk(expr, pre_visit=visit)
    return found


def aggregations(expr: promql_parser.Expr) -> list[promql_parser.AggregateExpr]:
    found: list[promql_parser.AggregateExpr] = []

    def visit(node: promql_parser.Expr) -> bool:
        if isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            found.append(node)
        return True

    promql_parser.walk(expr, pre_visit=visit)
    return found


def test_dashboard_is_identified_and_has_a_prometheus_datasource_variable(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] == "aexy-stream"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert (variables["datasource"]["type"], variables["datasource"]["query"]) == ("datasource", "prometheus")


def test_every_panel_and_query_names_the_datasource(dashboard: dict[str, Any]) -> None:
    wanted = {"type": "prometheus", "uid": "${datasource}"}
    for panel in panels(dashboard):
        assert panel["datasource"] == wanted, panel["title"]
        assert panel["targets"], panel["title"]
        assert all(target["datasource"] == wanted for target in panel["targets"]), panel["title"]
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(set(ref_ids)) == len(ref_ids), panel["title"]


def test_panel_ids_and_positions_do_not_collide(dashboard: dict[str, Any]) -> None:
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(set(ids)) == len(ids)
    cells = [
        (p["gridPos"]["x"] + dx, p["gridPos"]["y"] + dy)
        for p in dashboard["panels"]
        for dx in range(p["gridPos"]["w"])
        for dy in range(p["gridPos"]["h"])
    ]
    assert len(set(cells)) == len(cells)
    assert all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in dashboard["panels"])


def test_every_expression_parses(dashboard: dict[str, Any]) -> None:
    for title, expr in expressions(dashboard):
        try:
            parsed(expr)
        except ValueError as exc:
            pytest.fail(f"{title}: {expr}: {exc}")


def test_parser_rejects_broken_promql() -> None:
    with pytest.raises(ValueError, match=r"unclosed|unexpected|invalid"):
        parsed("sum by (topic) (rate(aexy_stream_events_in_total[$__rate_interval])")


def test_every_metric_is_one_the_code_exports(dashboard: dict[str, Any]) -> None:
    known = exported()
    unknown = {
        (title, selector.name)
        for title, expr in expressions(dashboard)
        for selector in selectors(parsed(expr))
        if selector.name not in known
    }
    assert unknown == set()


def test_label_matchers_use_labels_the_metric_has(dashboard: dict[str, Any]) -> None:
    known = exported()
    wrong = {
        (title, selector.name, matcher.name)
        for title, expr in expressions(dashboard)
        for selector in selectors(parsed(expr))
        for matcher in selector.matchers.matchers
        if matcher.name not in known[str(selector.name)] | TARGET_LABELS
    }
    assert wrong == set()


def test_grouping_labels_exist_on_the_grouped_metrics(dashboard: dict[str, Any]) -> None:
    known = exported()
    wrong = set()
    for title, expr in expressions(dashboard):
        for aggregation in aggregations(parsed(expr)):
            available = set(TARGET_LABELS).union(*(known[str(s.name)] for s in selectors(aggregation.expr)))
            wrong |= {(title, label) for label in aggregation.modifier.labels if label not in available}  # type: ignore[union-attr]
    assert wrong == set()


def test_the_required_signals_each_have_a_panel(dashboard: dict[str, Any]) -> None:
    used = {selector.name for _, expr in expressions(dashboard) for selector in selectors(parsed(expr))}
    assert sorted(set(REQUIRED_PANELS) - used) == []
    assert any("histogram_quantile" in expr and "end_to_end" in expr for _, expr in expressions(dashboard)), (
        "end-to-end percentiles"
    )
