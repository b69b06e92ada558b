"""What each GitHub event counts as in the activity state (the bundled webhook examples)."""

from __future__ import annotations

import pytest

from aexy_dev.demo.feed import EXAMPLES
from consumers.activity.observe import of_activity
from schemas.events import parse_activity

COUNTED = {
    "pull_request.opened": ("pull_request", "Codertocat"),
    "pull_request_review.submitted": ("review", "Codertocat"),
    "pull_request_review_comment.created": ("comment", "Codertocat"),
    "issue_comment.created": ("comment", "Codertocat"),
    "commit_comment.created": ("comment", "Codertocat"),
    "issues.opened": ("issue", "Codertocat"),
    "push": None,  # its commits count as code changes, not here
}


@pytest.mark.parametrize(("name", "expected"), COUNTED.items())
def test_each_example_counts_as_its_kind_for_its_author(name: str, expected: tuple[str, str] | None) -> None:
    event = parse_activity((EXAMPLES / f"{name}.json").read_bytes(), name.partition(".")[0], "d-1")
    observed = of_activity(event)
    if expected is None:
        assert observed == []
        return
    [obs] = observed
    assert (obs.kind, obs.person.login) == expected
    assert obs.repository == "Codertocat/Hello-World" and obs.at.tzinfo is not None


def test_a_review_knows_its_turnaround_and_the_author_it_reviewed() -> None:
    body = (EXAMPLES / "pull_request_review.submitted.json").read_bytes()
    [obs] = of_activity(parse_activity(body, "pull_request_review", "d-1"))
    assert obs.peers == ("codertocat",)
    assert obs.turnaround_h is not None and obs.turnaround_h >= 0
