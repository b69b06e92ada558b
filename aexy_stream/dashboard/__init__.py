"""`aexy-stream dashboard`: a live page of what `analysis.results` says about teams and people.

`reader` reads the topic from its beginning into the materialized `view`; `events` pushes what
changed to each browser over Server-Sent Events; `server` serves the page, the snapshot, the
event stream and CSV; `access` decides who may see it. docs/dashboard.md says how it works.
"""
