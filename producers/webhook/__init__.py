"""The GitHub webhook receiver: signed deliveries in, `github.activity` and `code.changes` records out.

Order of work for one `POST /webhooks/github` (`app.py`, then `receiver.py`):
size limit (413) -> signature (401) -> headers and JSON (400/415) -> ping (200, not published)
-> duplicate delivery (200) -> commit diffs for a push -> write and wait for the broker (202, else 503)
-> mark the delivery as done.
"""
