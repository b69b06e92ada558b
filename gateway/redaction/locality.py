"""Which providers never send content off the machine: the only ones `REDACT_LOCAL_PROVIDERS=false`
may exempt from redaction.

The keyless `rules` provider analyses in the process. Ollama and an OpenAI-compatible server are
local when their base URL names a loopback address (`localhost`, 127.0.0.0/8, ::1); one on any other
host, a container beside this one included, receives the content over a network. Claude is never
local, whatever its base URL says.
"""

from __future__ import annotations

from ipaddress import ip_address
from urllib.parse import urlsplit

from gateway.config import ProviderConfig

IN_PROCESS = frozenset({"rules"})
HTTP_SERVERS = frozenset({"ollama", "openai"})


def on_this_machine(config: ProviderConfig) -> bool:
    if config.name in IN_PROCESS:
        return True
    return config.name in HTTP_SERVERS and is_loopback(config.base_url)


def is_loopback(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
