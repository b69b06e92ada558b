"""Every GitHub event shape, 2011-2023: each GH Archive / Events API record and each webhook example
routes to its analyses or is skipped with one label of `Skip`; none is refused.

The expected counts were found by reading the records (`tests/data/gharchive/SOURCES.md` describes
the three shapes): an event type the route table does not name is `unrouted_type`; an action it does
not name `unrouted_action` (a comment event without an action is its creation, an Events API review
`created` is a submitted one); an old record that names an issue or a comment by its id alone has
`no_text`, as has a review approved without a word.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest

from consumers.activity.observe import of_activity
from consumers.config import RoutingConfig, Topics
from consumers.decode import Decoder, Work
from consumers.routing import ACTIVITY_ROUTES, route_activity
from consumers.skips import Skip
from producers.archive import ArchiveLine, iter_archive
from schemas.events import ActivityEvent, parse_activity
from schemas.events.fields import when
from schemas.events.names import from_events_api
from schemas.events.normalize import normalize
from schemas.types import AnalysisType
from tests.corpora import GHARCHIVE, WEBHOOKS

TOPICS = Topics()
CONFIG = RoutingConfig()
TASK, SOFT = AnalysisType.TASK_SIGNALS, AnalysisType.SOFT_SKILLS

SHAPES = {
    "octokit_octokit.rb_github-timeline-2011-01-18_fixture.ndjson": "timeline",
    "arfon_gh_archive_parser_gharchive-2013-02-15-00_sample.ndjson": "timeline",
    "arfon_gh_archive_parser_gharchive-2014-02-15-00_sample.ndjson": "timeline",
    "ikwattro_gh4j_gharchive-2014-06-01-01_fixture.ndjson": "timeline",
    "arfon_gh_archive_parser_gharchive-2011-02-15-00_sample.ndjson": "beta",
    "arfon_gh_archive_parser_gharchive-2012-02-15-00_sample.ndjson": "beta",
    "octokit_octokit.rb_events-api-2012_fixtures.ndjson": "events_api",
    "octokit_octokit.rb_events-api-2013_vcr.ndjson": "events_api",
    "honeypotio_githubarchive_gharchive-2015-01-01-12_sample.ndjson": "events_api",
    "arfon_gh_archive_parser_gharchive-2015-2016-02-15-00_one-per-type.ndjson": "events_api",
    "octokit_octokit.rb_events-api-2016-09_vcr.ndjson": "events_api",
    "sigmavirus24_github3.py_events-api-2017-2018_betamax.ndjson": "events_api",
    "hub4j_github-api_events-api-2019-10-21_wiremock.ndjson": "events_api",
    "octokit_octokit.rb_events-api-2020_vcr.ndjson": "events_api",
    "hub4j_github-api_events-api-2023_user-public-events_wiremock.ndjson": "events_api",
}
"""Each file's record shape, as SOURCES.md lists them."""

RECORDS = {"timeline": 936, "beta": 325, "events_api": 1613}

# fmt: off
ROUTED_TYPES: dict[tuple[str, str], dict[str, int]] = {
    ("timeline", "PullRequestEvent"):                {"routed": 25, "unrouted_action": 24},
    ("timeline", "IssuesEvent"):                     {"no_text": 25, "unrouted_action": 25},
    ("timeline", "IssueCommentEvent"):               {"no_text": 69},
    ("timeline", "PullRequestReviewCommentEvent"):   {"routed": 26},
    ("timeline", "CommitCommentEvent"):              {"no_text": 27},
    ("beta", "PullRequestEvent"):                    {"routed": 14, "unrouted_action": 10},
    ("beta", "IssuesEvent"):                         {"routed": 4, "no_text": 7, "unrouted_action": 13},
    ("beta", "IssueCommentEvent"):                   {"routed": 12},
    ("beta", "CommitCommentEvent"):                  {"routed": 12, "no_text": 12},
    ("events_api", "PullRequestEvent"):              {"routed": 76, "bot": 4, "unrouted_action": 114},
    ("events_api", "IssuesEvent"):                   {"routed": 79, "unrouted_action": 70},
    ("events_api", "IssueCommentEvent"):             {"routed": 177, "bot": 2},
    ("events_api", "PullRequestReviewCommentEvent"): {"routed": 81, "bot": 1},
    ("events_api", "PullRequestReviewEvent"):        {"routed": 24, "no_text": 20},
    ("events_api", "CommitCommentEvent"):            {"routed": 26},
}
# fmt: on
"""Records of the six routed types, by shape and type: routed, or skipped by label."""

UNROUTED_TYPE = {"timeline": 715, "beta": 241, "events_api": 939}
"""Records of every other type (push, create, watch, fork, gist, ...): all `unrouted_type`."""

ANALYSIS = {
    "PullRequestEvent": TASK,
    "IssuesEvent": TASK,
    "IssueCommentEvent": SOFT,
    "PullRequestReviewCommentEvent": SOFT,
    "PullRequestReviewEvent": SOFT,
    "CommitCommentEvent": SOFT,
}


@dataclass(frozen=True)
class Line:
    shape: str
    path: Path
    number: int
    value: bytes
    record: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.record["type"])

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = self.record.get("payload") or {}
        return payload


@dataclass(frozen=True)
class Record:
    """A consumed record as the processor's decoder reads it."""

    value: bytes
    topic: str = TOPICS.backfill_activity
    partition: int = 0
    offset: int = 0
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


@cache
def corpus() -> tuple[Line, ...]:
    lines = []
    for path in sorted(GHARCHIVE.glob("*.ndjson")):
        values = path.read_bytes().split(b"\n")  # one file has no final newline
        lines += [
            Line(SHAPES[path.name], path, number, value, orjson.loads(value))
            for number, value in enumerate(values, 1)
            if value.strip()
        ]
    return tuple(lines)


@cache
def decoded() -> tuple[tuple[Line, Work], ...]:
    """Every record through the processor's decoder, from the backfill lane (as `backfill events`
    publishes it): parsed and routed."""
    decoder = Decoder(TOPICS, CONFIG, 1_000_000)
    return tuple((line, decoder.decode(Record(line.value))) for line in corpus())


def outcome(work: Work) -> str:
    return "routed" if work.requests else str(work.skipped)


def find(type_name: str, path: str, **payload: Any) -> Line:
    """The first record of a type in a file whose payload has these values."""
    return next(
        line
        for line in corpus()
        if line.type == type_name
        and line.path.name == path
        and all(line.payload.get(k) == v for k, v in payload.items())
    )


def corpus_line(name: str, number: int) -> Line:
    return next(line for line in corpus() if line.path.name == name and line.number == number)


def event_of(line: Line) -> ActivityEvent:
    return parse_activity(line.value, None, None)


def full_name(line: Line) -> str:
    repository = line.record["repository"]
    return f"{repository['owner']}/{repository['name']}"


# --- the whole corpus ------------------------------------------------------------------------


def test_the_corpus_holds_three_shapes() -> None:
    assert {p.name for p in GHARCHIVE.glob("*.ndjson")} == set(SHAPES)
    assert Counter(line.shape for line in corpus()) == RECORDS


def test_backfill_events_reads_every_record() -> None:
    """`aexy-stream backfill events` refuses nothing: every line is a record, keyed by its repository."""
    items = list(iter_archive(sorted(GHARCHIVE.glob("*.ndjson"))))
    assert all(isinstance(item, ArchiveLine) for item in items)
    assert len(items) == len(corpus())
    keyed = Counter(
        SHAPES[item.path.name] for item in items if isinstance(item, ArchiveLine) and item.repository
    )
    # Timeline: 54 records have no repository (gists, follows), 2 forks' owners are left empty
    assert keyed == {"timeline": 880, "beta": 325, "events_api": 1613}


def test_every_record_routes_or_skips_with_a_label() -> None:
    for line, work in decoded():
        assert bool(work.requests) != (work.skipped is not None), (line.path.name, line.number)
        assert work.skipped is None or isinstance(work.skipped, Skip)
        if work.requests:
            assert [r.analysis_type for r in work.requests] == [ANALYSIS[line.type]]
            assert {r.priority for r in work.requests} == {"backfill"}


def test_routed_and_skipped_per_shape_and_type() -> None:
    found: dict[tuple[str, str], Counter[str]] = {}
    unrouted: Counter[str] = Counter()
    for line, work in decoded():
        if line.type in ANALYSIS:
            found.setdefault((line.shape, line.type), Counter())[outcome(work)] += 1
        else:
            assert work.skipped is Skip.UNROUTED_TYPE, (line.path.name, line.number)
            unrouted[line.shape] += 1
    assert found == {key: Counter(counts) for key, counts in ROUTED_TYPES.items()}
    assert unrouted == UNROUTED_TYPE
    total = sum(sum(c.values()) for c in ROUTED_TYPES.values()) + sum(UNROUTED_TYPE.values())
    assert total == sum(RECORDS.values()) == 2874


def test_skip_labels_over_the_corpus() -> None:
    labels = Counter(str(work.skipped) for _, work in decoded() if work.skipped)
    assert labels == {"unrouted_type": 1895, "unrouted_action": 256, "no_text": 160, "bot": 7}
    assert sum(1 for _, work in decoded() if work.requests) == 556


def test_every_webhook_example_routes_or_skips_with_a_label() -> None:
    outcomes: Counter[str] = Counter()
    for path in sorted(WEBHOOKS.glob("*/*.json")):
        routed = route_activity(parse_activity(path.read_bytes(), path.parent.name, None), CONFIG)
        assert bool(routed.requests) != (routed.skipped is not None), path
        outcomes["routed" if routed.requests else str(routed.skipped)] += 1
    assert outcomes == {"routed": 24, "unrouted_type": 195, "unrouted_action": 49, "no_text": 2}


# --- reviews and commit comments give soft skills --------------------------------------------


def test_events_api_reviews_are_submitted_reviews() -> None:
    """A `PullRequestReviewEvent` is `created` in the Events API: a review with a body asks for
    its reviewer's soft skills, one without a word is skipped as `no_text`."""
    reviews = [(line, work) for line, work in decoded() if line.type == "PullRequestReviewEvent"]
    assert len(reviews) == 44
    for line, work in reviews:
        review = line.payload["review"]
        assert line.payload["action"] == "created"
        assert isinstance(work.event, ActivityEvent) and work.event.action == "submitted"
        if (review["body"] or "").strip():
            (request,) = work.requests
            assert (request.analysis_type, request.subject) == (SOFT, review["user"]["login"])
            assert request.content == review["body"]
            assert request.context["review_state"] == review["state"]
            assert request.context["number"] == line.payload["pull_request"]["number"]
        else:
            assert work.skipped is Skip.NO_TEXT


def test_events_api_reviews_count_as_reviews_in_the_activity_state() -> None:
    """Approvals without a word ask for no analysis but still count as reviews (with turnaround)."""
    observed = []
    for line in corpus():
        if line.type == "PullRequestReviewEvent":
            (observation,) = of_activity(event_of(line))
            observed.append(observation)
            assert observation.person.login == line.payload["review"]["user"]["login"]
            opened = datetime.fromisoformat(line.payload["pull_request"]["created_at"])
            submitted = datetime.fromisoformat(line.payload["review"]["submitted_at"])
            assert observation.turnaround_h == pytest.approx((submitted - opened).total_seconds() / 3600)
    assert [o.kind for o in observed] == ["review"] * 44


def test_commit_comments_with_text_ask_for_soft_skills() -> None:
    """Events API commit comments have no action; the oldest name the comment by id only."""
    comments = [(line, work) for line, work in decoded() if line.type == "CommitCommentEvent"]
    with_text = [(line, work) for line, work in comments if "comment" in line.payload]
    assert (len(comments), len(with_text)) == (77, 38)
    assert all("action" not in line.payload for line, _ in comments)
    for line, work in with_text:
        comment = line.payload["comment"]
        (request,) = work.requests
        assert (request.analysis_type, request.subject) == (SOFT, comment["user"]["login"])
        assert request.content == comment["body"]
        assert (request.context["comment_kind"], request.context["action"]) == ("commit", "created")
    assert {work.skipped for line, work in comments if "comment" not in line.payload} == {Skip.NO_TEXT}


# --- old shapes ------------------------------------------------------------------------------


def test_a_2011_timeline_push_reads_its_actor_repository_date_and_commits() -> None:
    line = corpus_line("octokit_octokit.rb_github-timeline-2011-01-18_fixture.ndjson", 1)
    assert isinstance(line.record["actor"], str) and "repo" not in line.record
    event = event_of(line)
    assert event.actor is not None and (event.actor.login, event.actor.type) == ("edwardgeorge", "User")
    assert event.repository == "edwardgeorge/homebrew"
    assert event.occurred_at == datetime(2011, 1, 18, 11, 42, 14, tzinfo=timezone(timedelta(hours=-8)))
    assert re.fullmatch(r"[0-9a-f]{64}", event.event_id)  # no id: the digest of the record
    assert event.push is not None and event.push.after == "7f1b4a4b8223fca486f2b9d10bb7a2a57a96b727"
    first = event.push.commits[0]
    assert (first.sha, first.author_email, first.author_name) == (
        "03eff409125f8e6abccc057d94032179b07612dc",
        "justin@justinhileman.info",
        "Justin Hileman",
    )
    assert first.message.startswith("Version bump git-flow completion.")
    assert len(event.push.commits) == len(line.payload["shas"])


def test_a_timeline_record_with_a_null_actor_has_none() -> None:
    gists = [line for line in corpus() if line.record.get("actor", "") is None]
    assert len(gists) == 15 and {line.type for line in gists} == {"GistEvent"}
    for line in gists:
        event = event_of(line)
        assert (event.actor, event.repository) == (None, "")
        assert route_activity(event, CONFIG).skipped is Skip.UNROUTED_TYPE


def test_a_timeline_record_without_a_payload_is_read() -> None:
    line = next(line for line in corpus() if line.shape == "timeline" and "payload" not in line.record)
    event = event_of(line)
    assert (event.event_type, event.action, event.repository) == ("public", "", full_name(line))


def test_a_repository_whose_owner_was_left_empty_is_named_by_the_events_page() -> None:
    """The Timeline names an org-owned repository's owner `""` at times; the event's html page
    names it, except for a fork, whose page is the new fork's."""
    empty = [line for line in corpus() if (line.record.get("repository") or {}).get("owner") == ""]
    named = {line.type: event_of(line).repository for line in empty}
    assert len(empty) == 37
    assert named["PullRequestEvent"] in {"Zethes/Jatta", "VincentDubois/Web1"}
    assert named["ForkEvent"] == ""
    for line in empty:
        page = line.record["url"].split("/")[3:5]
        expected = "" if line.type == "ForkEvent" else "/".join(page)
        assert event_of(line).repository == expected


def test_an_issue_named_by_its_id_is_skipped_without_text_and_still_counted() -> None:
    line = find(
        "IssuesEvent", "arfon_gh_archive_parser_gharchive-2013-02-15-00_sample.ndjson", issue=11026996
    )
    event = event_of(line)
    assert event.issue is not None and (event.issue.number, event.issue.title) == (40, "")
    assert route_activity(event, CONFIG).skipped is Skip.NO_TEXT
    (observation,) = of_activity(event)
    assert (observation.kind, observation.person.login, observation.repository) == (
        "issue",
        "kostonstyle",
        "hexorx/countries",
    )


def test_a_2013_review_comment_without_a_pull_request_routes_with_its_number() -> None:
    line = next(
        line
        for line in corpus()
        if line.record.get("id") == "1725356169" and line.type == "PullRequestReviewCommentEvent"
    )
    assert "pull_request" not in line.payload and "action" not in line.payload
    event = event_of(line)
    assert (event.action, event.pull_request and event.pull_request.number) == ("created", 348)
    (request,) = route_activity(event, CONFIG).requests
    assert (request.analysis_type, request.subject) == (SOFT, "kevinsawicki")
    assert request.content.startswith("Could you revert the changes to this file?")
    assert request.context["number"] == 348
    assert request.context["path"] == "app/src/main/java/com/github/mobile/util/AvatarLoader.java"


# --- the normalizer at the boundary ----------------------------------------------------------


def test_of_todays_records_only_reviews_change_their_action() -> None:
    today = [line for line in corpus() if line.path.name.startswith("hub4j")]
    changed = [line for line in today if normalize(line.record) is not line.record]
    assert len(today) == 382 and len(changed) == 44
    for line in changed:
        assert line.type == "PullRequestReviewEvent"
        assert normalize(line.record) == {**line.record, "payload": {**line.payload, "action": "submitted"}}


def test_the_2011_timeline_date() -> None:
    assert when("2011/01/18 11:42:14 -0800") == datetime(
        2011, 1, 18, 19, 42, 14, tzinfo=timezone(timedelta(0))
    )
    assert when("2011/01/18 11:42") is None


def test_the_routed_types_are_the_tables() -> None:
    assert {from_events_api(type_name) for type_name in ANALYSIS} == set(ACTIVITY_ROUTES)
