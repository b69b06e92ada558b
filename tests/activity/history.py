"""Scripted developer histories: commits as `CodeChangeEvent` JSON, at chosen local times."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import orjson

BERLIN = timezone(timedelta(hours=1))
START = datetime(2026, 6, 1, tzinfo=BERLIN)  # a Monday
"""With 28-day windows, the final features of a 13-week history compare weeks 9-12 (current) with
weeks 5-8 (previous), and with the developer's own baseline: weeks 0-8 (62 days)."""


def commit(login: str, at: datetime, repository: str = "octo/app", n: int = 0) -> bytes:
    sha = hashlib.sha1(f"{login}{at.isoformat()}{repository}{n}".encode()).hexdigest()
    return orjson.dumps(
        {
            "repository": repository,
            "sha": sha,
            "author": {"name": login.title(), "email": f"{login}@example.com", "login": login},
            "authored_at": at.isoformat(),
            "committed_at": at.isoformat(),
            "message": f"Change {n}",
            "parents": ["a" * 40],
            "files": [
                {
                    "path": f"src/{login}_{n}.py",
                    "status": "modified",
                    "additions": 2,
                    "deletions": 1,
                    "patch": f"@@ -1 +1,2 @@\n-x = {n}\n+x = {n + 1}\n+y = {n}\n",
                }
            ],
        }
    )


def weeks(
    login: str, first: int, last: int, per_week: int, weekend: int = 0, hour: int = 11
) -> Iterator[bytes]:
    """`per_week` commits in each week [first, last): the first `weekend` on Saturday, the rest on
    weekdays at `hour` local time."""
    for week in range(first, last):
        monday = START + timedelta(weeks=week)
        for n in range(per_week):
            day = 5 if n < weekend else n % 5
            yield commit(login, monday + timedelta(days=day, hours=hour, minutes=n), n=week * 100 + n)


def declining(login: str = "dora") -> list[bytes]:
    """10 weekday commits a week for nine weeks, then 3 a week with 2 of them on Saturdays (-70%)."""
    return [*weeks(login, 0, 9, per_week=10), *weeks(login, 9, 13, per_week=3, weekend=2)]


def steady(login: str = "stan") -> list[bytes]:
    return list(weeks(login, 0, 13, per_week=10))


def by_time(*histories: list[bytes]) -> list[bytes]:
    events = [e for history in histories for e in history]
    return sorted(events, key=lambda e: orjson.loads(e)["authored_at"])
