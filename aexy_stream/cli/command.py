"""What every subcommand that needs settings does first."""

from __future__ import annotations

import argparse
import functools
import logging
from collections.abc import Callable

from pydantic import ValidationError

from aexy_stream.cli.errors import EXIT_USAGE, fail
from aexy_stream.settings import Settings, setting_error_line

Handler = Callable[[argparse.Namespace], int]


def with_settings(handler: Callable[[argparse.Namespace, Settings], int]) -> Handler:
    """The handler, given the settings read from the environment; a bad setting is one line on
    stderr and exit 2, before anything starts."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            settings = Settings()
        except ValidationError as exc:
            return fail(setting_error_line(exc), EXIT_USAGE)
        return handler(args, settings)

    return run


def quiet_kafka() -> None:
    """Interactive commands: aiokafka's own warnings stay out of the output, unless -v."""
    logging.getLogger("aiokafka").addHandler(logging.NullHandler())
