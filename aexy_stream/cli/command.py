"""What every subcommand that needs settings does first: compose the `App` from the environment."""

from __future__ import annotations

import argparse
import functools
import logging
import re
from collections.abc import Callable

from pydantic import ValidationError
from pydantic_settings import SettingsError

from aexy_stream.cli.errors import EXIT_USAGE, fail
from aexy_stream.compose import App
from aexy_stream.settings import setting_error_line

Handler = Callable[[argparse.Namespace], int]


def with_app(handler: Callable[[argparse.Namespace, App], int]) -> Handler:
    """The handler, given the process's composition (the settings read once from the environment);
    a bad setting is one line on stderr and exit 2, before anything starts."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            app = App.from_environment()
        except ValidationError as exc:
            return fail(setting_error_line(exc), EXIT_USAGE)
        except SettingsError as exc:  # a value that is not even JSON, where JSON is expected
            return fail(_unparsable(exc), EXIT_USAGE)
        return handler(args, app)

    return run


def _unparsable(exc: SettingsError) -> str:
    """pydantic-settings names the field: say the variable, as for every other bad setting."""
    field = re.search(r'field "(\w+)"', str(exc))
    return f"invalid setting {field[1].upper()}: not valid JSON" if field else f"invalid setting: {exc}"


def quiet_kafka() -> None:
    """Interactive commands: aiokafka's own warnings stay out of the output, unless -v."""
    logging.getLogger("aiokafka").addHandler(logging.NullHandler())
