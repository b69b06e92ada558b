"""Why a record asks for no analysis: one small fixed set of labels.

The label is the `reason` of `aexy_stream_events_skipped_total`, so the metric keeps a handful of
series whatever the input; the words for people (which bot, which action) go in a `Routed`'s
`detail` and in logs, never in the metric.
"""

from __future__ import annotations

from enum import StrEnum


class Skip(StrEnum):
    UNROUTED_TYPE = "unrouted_type"
    """No analysis reads this event type (push, watch, fork, ...; push commits arrive as code changes)."""
    UNROUTED_ACTION = "unrouted_action"
    """The event type is routed, this action is not (a pull request closed, a comment deleted, ...)."""
    BOT = "bot"
    """A bot's actor or author (`BOT_PATTERN`, or an account of type Bot)."""
    NO_TEXT = "no_text"
    """Nothing written to analyse: an empty review or comment, or an old record naming it by id only."""
    NO_AUTHOR = "no_author"
    """An analysis of a developer, and nobody to attribute it to."""
    MERGE_COMMIT = "merge_commit"
    NOTHING_ANALYSABLE = "nothing_analysable"
    """A commit with no file worth analysing (generated, vendored, lock or binary files, or none)."""
    ANALYSES_OFF = "analyses_off"
    """Every analysis the record asked for is turned off (`PREDICTIVE_ANALYSES_ENABLED=false`)."""
    OUT_OF_RANGE = "out_of_range"
    """Outside a replay's `[since, until]`: passed over unread."""
