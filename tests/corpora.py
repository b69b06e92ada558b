"""Where the test suite's real corpora live: `tests/data/`, in the repository (licences beside each)."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
WEBHOOKS = DATA / "github-webhooks"
"""Official GitHub webhook payload examples: `<event>/<action>[.variant].payload.json` (MIT)."""
GHARCHIVE = DATA / "gharchive"
"""Real Events API and GH Archive records, 2011-2023, one JSON object per line (MIT and BSD)."""
LIBUV_BUNDLE = DATA / "git" / "libuv.bundle"
"""libuv's full git history as a bundle (MIT): `git clone -q` it to get a checkout."""
