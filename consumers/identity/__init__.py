"""Who a person is, across commit e-mails, GitHub logins and (optionally) full names.

Identities (`keys.py`) are linked (`links.py`: a login and an e-mail named together, GitHub noreply
addresses, a repository's .mailmap applied by git, an operator's alias file, the same full name when
allowed) into disjoint sets kept by the identity store (`store/`), each with one canonical id: the
lowest GitHub login of the set, else its lowest e-mail. The resolver (`resolver.py`) gives every
developer subject its canonical id, caching what it learned, and reports the merges a new link
makes, so that the activity state and the consumers of the results can join both halves.
"""
