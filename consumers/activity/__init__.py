"""Developer and team activity state, and the predictive analyses it triggers.

What is stored, where, and for how long (also in docs/activity.md):
- per developer (`dev:<id>`) and per repository (`repo:<owner/name>`), one small JSON document:
  counters per day (commits, pull requests, reviews, comments, commits after hours and at
  weekends), the last 50 pull-request sizes and review turnarounds, the people and repositories
  worked with per day, language and framework counts from skill_extraction results, and the skills
  last asked about. Days older than `ActivityConfig.history_days` (400) behind the latest are dropped.
- markers: `event:<id>:<kind>:<part>` (an event counted once), `skills:<request id>`, and
  `emit:<subject>:<type>:<interval>` (a periodic analysis asked, written once settled);
- `alias:<email>` -> developer id, learned from events that carry both an email and a login;
- in Redis when `REDIS_URL` is set (shared by every instance of the group, surviving restarts),
  else in process memory (the embedded default). Every key expires `ACTIVITY_STATE_TTL_DAYS` (90)
  after its last update. No code, no commit message, no comment text is ever stored.
- with `PSEUDONYMIZE_DEVELOPERS`, developer ids, repository owners and alias keys are keyed hashes
  (`dev_<hmac>`) everywhere: in the state, in every request and so in every result.
"""
