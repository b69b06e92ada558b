"""Developer and team activity state, and the predictive analyses it triggers.

What is stored, where, and for how long (also in the README):
- per developer (`dev:<id>`) and per repository (`repo:<owner/name>`), one small JSON document:
  counters per day (commits, pull requests, reviews, comments, after-hours and weekend events),
  the last 50 pull-request sizes and review turnarounds, the people and repositories worked with
  per day, language and framework counts from skill_extraction results, and when each periodic
  analysis was last asked for. Days older than two windows (`ACTIVITY_WINDOW_DAYS`, 28) are dropped.
- `seen:<hash>` markers that make every update idempotent (an event or result counted once);
- `alias:<email>` -> login, learned from events that carry both;
- in Redis when `REDIS_URL` is set (shared by every instance of the group, surviving restarts),
  else in process memory (the embedded default). Every key expires `ACTIVITY_STATE_TTL_DAYS` (90)
  after its last update. No code, no commit message, no comment text is ever stored.
- with `PSEUDONYMIZE_DEVELOPERS`, developer ids are keyed hashes (`dev_<hmac>`) everywhere: in the
  state, in every request and in every result.
"""
