"""What every command pays before it starts: the command line imports no provider SDK up front.

The `anthropic` SDK alone took most of a command's start-up (`python -X importtime`), in every
process, Claude or not: the Claude modules import it where it is first used.
"""

from __future__ import annotations

import subprocess
import sys

SDKS = ("anthropic", "httpx2")


def test_the_command_line_imports_no_provider_sdk() -> None:
    code = f"import sys, aexy_stream.cli.main; print([m for m in {SDKS!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_claude_still_gets_its_sdk_when_it_is_built() -> None:
    code = (
        "import sys; from gateway.config import ProviderConfig;"
        " from gateway.providers.claude import ClaudeProvider;"
        " ClaudeProvider(ProviderConfig('claude', 'claude-sonnet-5-5', api_key='sk-test'));"
        " print('anthropic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"
