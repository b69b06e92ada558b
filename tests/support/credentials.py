"""A corpus of credential formats, written synthetically (random values, never real keys).

Each `Credential` is one format, as detect-secrets' plugins document it (their patterns) or as its
issuer documents it (for the formats our own rules cover, `gateway/redaction/rules.py`), with the
secret `value` and how it appears in four contexts: a line of code, a line of configuration, a URL
and a sentence of prose. A format whose syntax carries its own setting (a password assignment, a URL
with credentials, a connection string, a key block) gives its own four lines; a key block, which no
URL carries, appears JSON-escaped instead (as in a service-account file).

Values come from a seeded generator: the same corpus on every run, and no value is ever a key someone
issued.
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass

CONTEXTS = ("code", "config", "url", "prose")
ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"


@dataclass(frozen=True, slots=True)
class Credential:
    name: str
    kind: str
    """The marker kind the code context is redacted under."""
    value: str
    lines: dict[str, str]
    """Context -> the line that carries the value there."""
    path: dict[str, str]
    """Context -> the file a diff of that line would be in."""

    def line(self, context: str) -> str:
        return self.lines[context]


Lines = Callable[[str], dict[str, str]]
PATHS = {
    "code": "src/settings.py",
    "config": "deploy/values.yaml",
    "url": "docs/links.md",
    "prose": "NOTES.txt",
}


def _default_lines(value: str) -> dict[str, str]:
    return {
        "code": f'    upstream = connect(endpoint, "{value}")',
        "config": f"  upstream: {value}",
        "url": f"See https://api.example.com/v1/items?page=2&q={value}",
        "prose": f"I pasted {value} in the chat by mistake, sorry about that.",
    }


def corpus(seed: int = 18) -> list[Credential]:
    """Every format, with fresh random values from `seed`."""
    r = _Random(seed)
    made = []
    for name, kind, make, *lines in FORMATS:
        value = make(r)
        made.append(Credential(name, kind, value, (lines[0] if lines else _default_lines)(value), PATHS))
    return made


class _Random:
    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def text(self, alphabet: str, size: int) -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(size))

    def number(self, low: int, high: int) -> int:
        return self._rng.randint(low, high)


def _aws_secret(value: str) -> dict[str, str]:
    return {
        "code": f'    aws_secret_access_key = "{value}"',
        "config": f'  aws_secret_key: "{value}"',
        "url": f'    url = "https://s3.example.com/upload?aws_key=" + "{value}"',
        "prose": f'The aws key for the bucket is "{value}".',
    }


def _azure(value: str) -> dict[str, str]:
    connection = (
        f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={value};EndpointSuffix=core.windows.net"
    )
    return {
        "code": f'    CONNECTION = "{connection}"',
        "config": f"  storage: {connection}",
        "url": f"https://acme.blob.core.windows.net/?AccountKey={value}",
        "prose": f"Use {connection} for the backups.",
    }


def _basic_auth(value: str) -> dict[str, str]:
    return {
        "code": f'    DATABASE_URL = "postgres://admin:{value}@db.internal:5432/app"',
        "config": f"  broker: amqp://svc:{value}@10.0.0.5:5672/prod",
        "url": f"https://deploy:{value}@ci.example.com/hooks/build",
        "prose": f"Clone it with https://ada:{value}@git.example.com/repo.git until the SSO works.",
    }


def _cloudant(value: str) -> dict[str, str]:
    url = f"https://acme-bluemix:{value}@acme-bluemix.cloudant.com"
    return {
        "code": f'    COUCH = "{url}"',
        "config": f"  couch: {url}",
        "url": url + "/db/_all_docs",
        "prose": f"The old Cloudant URL {url} still works.",
    }


def _assigned(name: str) -> Lines:
    def lines(value: str) -> dict[str, str]:
        return {
            "code": f'    {name} = "{value}"',
            "config": f'  {name}: "{value}"',
            "url": f'    {name} = "{value}"  # from https://cloud.example.com/iam',
            "prose": f'Set {name}="{value}" before running the job.',
        }

    return lines


def _npmrc(value: str) -> dict[str, str]:
    return {
        "code": f'    fs.writeFileSync(".npmrc", "//registry.npmjs.org/:_authToken={value}")',
        "config": f"//registry.npmjs.org/:_authToken={value}",
        "url": f"//npm.pkg.github.com/:_authToken={value}",
        "prose": f"My .npmrc has //registry.npmjs.org/:_authToken={value} in it.",
    }


def _password(value: str) -> dict[str, str]:
    return {
        "code": f'    db_password = "{value}"',
        "config": f"  password: {value}",
        "url": f"https://example.com/login?user=ada&password={value}",
        "prose": f"Staging login, password: {value} (rotate it after the demo).",
    }


def _quoted(value: str) -> dict[str, str]:
    return {
        "code": f'    blob = "{value}"',
        "config": f'  seed: "{value}"',
        "url": f"    fetch('https://api.example.com/v1/objects/' + '{value}')",
        "prose": f'Use "{value}" as the seed for now.',
    }


def _sas(value: str) -> dict[str, str]:
    query = f"sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&sig={value}"
    return {
        "code": f'    SAS_URL = "https://acme.blob.core.windows.net/backups?{query}"',
        "config": f"  backups: https://acme.blob.core.windows.net/backups?{query}",
        "url": f"https://acme.blob.core.windows.net/backups/db.tar?{query}",
        "prose": f"Download it from https://acme.blob.core.windows.net/backups?{query} today.",
    }


def _token(value: str) -> dict[str, str]:
    return {
        "code": f'    session_token = "{value}"',
        "config": f"  auth_token: {value}",
        "url": f"https://example.com/callback?state=xyz&access_token={value}",
        "prose": f"Run it with SERVICE_TOKEN={value} exported.",
    }


def _pem(label: str, r: _Random) -> str:
    body = "\n".join(r.text(B64, 64) for _ in range(6))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"


def _block(value: str) -> dict[str, str]:
    indented = "\n".join(f"    {line}" for line in value.split("\n"))
    return {
        "code": f'KEY = """\n{value}\n"""',
        "config": f"  tls_key: |\n{indented}",
        "url": f'  "private_key": {json.dumps(value + chr(10))},',
        "prose": f"Here is the key, please keep it safe:\n\n{value}\n\nThanks!",
    }


def _jwt(r: _Random) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    header = part({"alg": "HS256", "typ": "JWT"})
    payload = part({"sub": r.text(LOWER_ALNUM, 12), "iat": 1700000000})
    return f"{header}.{payload}.{r.text(URLSAFE, 43)}"


FORMATS: list[
    tuple[str, str, Callable[[_Random], str]] | tuple[str, str, Callable[[_Random], str], Lines]
] = [
    # detect-secrets' plugins, in their documented shapes
    ("aws access key id", "aws_access_key", lambda r: "AKIA" + r.text(UPPER_ALNUM, 16)),
    ("aws secret access key", "aws_access_key", lambda r: r.text(ALNUM + "/+", 40), _aws_secret),
    ("artifactory api token", "artifactory", lambda r: "AKCp" + r.text(ALNUM, 69)),
    ("azure storage account key", "azure_storage_key", lambda r: r.text(B64, 86) + "==", _azure),
    ("basic auth url", "basic_auth", lambda r: r.text(ALNUM, 14), _basic_auth),
    ("cloudant password url", "basic_auth", lambda r: r.text(HEX, 64), _cloudant),
    (
        "discord bot token",
        "discord",
        lambda r: "M" + r.text(URLSAFE, 23) + "." + r.text(URLSAFE, 6) + "." + r.text(URLSAFE, 27),
    ),
    ("github personal access token", "github_token", lambda r: "ghp_" + r.text(ALNUM, 36)),
    ("github oauth token", "github_token", lambda r: "gho_" + r.text(ALNUM, 36)),
    ("gitlab personal access token", "gitlab_token", lambda r: "glpat-" + r.text(URLSAFE, 20)),
    ("gitlab runner token", "gitlab_token", lambda r: "glrt-" + r.text(URLSAFE, 20)),
    ("ibm cloud iam key", "ibm_cloud_iam", lambda r: r.text(URLSAFE, 44), _assigned("ibm_cloud_iam_key")),
    (
        "ibm cos hmac secret",
        "ibm_cos_hmac",
        lambda r: r.text(HEX, 48),
        _assigned("cos_hmac_secret_access_key"),
    ),
    ("json web token", "jwt", _jwt),
    ("mailchimp api key", "mailchimp", lambda r: r.text(HEX, 32) + "-us" + str(r.number(1, 21))),
    ("npm token in .npmrc", "npm", lambda r: "npm_" + r.text(ALNUM, 36), _npmrc),
    ("openai key (legacy)", "openai", lambda r: "sk-" + r.text(ALNUM, 20) + "T3BlbkFJ" + r.text(ALNUM, 20)),
    ("pypi upload token", "pypi", lambda r: "pypi-AgEIcHlwaS5vcmc" + r.text(URLSAFE, 120)),
    ("sendgrid api key", "sendgrid", lambda r: "SG." + r.text(URLSAFE, 22) + "." + r.text(URLSAFE, 43)),
    (
        "slack bot token",
        "slack",
        lambda r: f"xoxb-{r.number(10**11, 10**12)}-{r.number(10**11, 10**12)}-{r.text(LOWER_ALNUM, 24)}",
    ),
    (
        "slack webhook",
        "slack",
        lambda r: (
            "https://hooks.slack.com/services/"
            f"T{r.text(UPPER_ALNUM, 8)}/B{r.text(UPPER_ALNUM, 10)}/{r.text(ALNUM, 24)}"
        ),
    ),
    ("softlayer api key", "softlayer", lambda r: r.text(LOWER_ALNUM, 64), _assigned("softlayer_api_key")),
    ("square oauth secret", "square", lambda r: "sq0csp-" + r.text(URLSAFE, 43)),
    ("stripe live secret key", "stripe", lambda r: "sk_live_" + r.text(ALNUM, 24)),
    ("stripe live key, current length", "stripe", lambda r: "sk_live_51" + r.text(ALNUM, 97)),
    ("stripe restricted key", "stripe", lambda r: "rk_live_" + r.text(ALNUM, 24)),
    ("telegram bot token", "telegram", lambda r: f"{r.number(10**8, 10**9)}:" + r.text(URLSAFE, 35)),
    ("twilio account sid", "twilio", lambda r: "AC" + r.text(HEX, 32)),
    ("twilio api key", "twilio", lambda r: "SK" + r.text(HEX, 32)),
    ("password assignment", "secret", lambda r: r.text(ALNUM, 10) + "!" + r.text(ALNUM, 3), _password),
    ("base64 high-entropy string", "base64_high_entropy", lambda r: r.text(B64, 40), _quoted),
    ("hex high-entropy string", "hex_high_entropy", lambda r: r.text(HEX, 40), _quoted),
    ("rsa private key", "private_key", lambda r: _pem("RSA PRIVATE KEY", r), _block),
    ("openssh private key", "private_key", lambda r: _pem("OPENSSH PRIVATE KEY", r), _block),
    ("pkcs8 private key", "private_key", lambda r: _pem("PRIVATE KEY", r), _block),
    ("ec private key", "private_key", lambda r: _pem("EC PRIVATE KEY", r), _block),
    ("pgp private key block", "private_key", lambda r: _pem("PGP PRIVATE KEY BLOCK", r), _block),
    # our own rules, for what detect-secrets lacks
    ("anthropic api key", "anthropic", lambda r: "sk-ant-api03-" + r.text(URLSAFE, 93) + "AA"),
    ("openai project key", "openai", lambda r: "sk-proj-" + r.text(URLSAFE, 156)),
    ("hugging face token", "huggingface", lambda r: "hf_" + r.text(ALNUM, 34)),
    ("npm access token", "npm", lambda r: "npm_" + r.text(ALNUM, 36)),
    (
        "github fine-grained token",
        "github_token",
        lambda r: "github_pat_" + r.text(ALNUM, 22) + "_" + r.text(ALNUM, 59),
    ),
    ("google api key", "google_api_key", lambda r: "AIza" + r.text(URLSAFE, 35)),
    ("stripe test secret key", "stripe", lambda r: "sk_test_" + r.text(ALNUM, 24)),
    ("stripe webhook secret", "stripe", lambda r: "whsec_" + r.text(ALNUM, 32)),
    (
        "slack app token",
        "slack",
        lambda r: f"xapp-1-A{r.text(UPPER_ALNUM, 10)}-{r.number(10**12, 10**13)}-{r.text(HEX, 64)}",
    ),
    (
        "discord webhook",
        "discord",
        lambda r: f"https://discord.com/api/webhooks/{r.number(10**17, 10**18)}/{r.text(URLSAFE, 68)}",
    ),
    ("shopify access token", "shopify", lambda r: "shpat_" + r.text(HEX, 32)),
    ("digitalocean token", "digitalocean", lambda r: "dop_v1_" + r.text(HEX, 64)),
    ("databricks token", "databricks", lambda r: "dapi" + r.text(HEX, 32)),
    ("doppler token", "doppler", lambda r: "dp.pt." + r.text(ALNUM, 43)),
    ("postman api key", "postman", lambda r: "PMAK-" + r.text(HEX, 24) + "-" + r.text(HEX, 34)),
    ("linear api key", "linear", lambda r: "lin_api_" + r.text(ALNUM, 40)),
    (
        "grafana service account token",
        "grafana",
        lambda r: "glsa_" + r.text(ALNUM, 32) + "_" + r.text(HEX, 8),
    ),
    ("age secret key", "age", lambda r: "AGE-SECRET-KEY-1" + r.text("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)),
    ("new relic user key", "newrelic", lambda r: "NRAK-" + r.text(UPPER_ALNUM, 27)),
    ("atlassian api token", "atlassian", lambda r: "ATATT3xFfGF0" + r.text(URLSAFE, 180)),
    ("hashicorp vault token", "vault", lambda r: "hvs." + r.text(URLSAFE, 90)),
    ("azure sas signature", "azure_sas", lambda r: r.text(ALNUM, 40) + "%3D", _sas),
    (
        "url password with sub-delimiters",
        "basic_auth",
        lambda r: r.text(ALNUM, 10) + "!$" + r.text(ALNUM, 4),
        _basic_auth,
    ),
    ("token assignment", "secret", lambda r: r.text(ALNUM, 32), _token),
]
"""Name, kind, how a value is made, and (for a format with a syntax of its own) its four lines."""


def secrets_of(credential: Credential) -> list[str]:
    """The parts of the value that must not reach a provider: the value, and each line of a block's
    body (a key block's lines are long enough to be secrets of their own)."""
    if "\n" not in credential.value:
        return [credential.value]
    return [line for line in credential.value.split("\n") if not line.startswith("-----")]
