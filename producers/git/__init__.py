"""Reading a git repository's history as `CodeChangeEvent`s, streamed from the `git` CLI.

    events = iter_code_changes(GitRange(Path("."), since=datetime(2024, 1, 1, tzinfo=UTC)))
    total = count_commits(GitRange(Path(".")))

One event per non-merge commit, oldest first (parents before children). Nothing here talks to Kafka,
and the history is never held in memory: `git log` output is parsed line by line, one commit at a
time, and a file's patch is kept only up to `GitRange.max_patch_bytes`.

The `git` CLI rather than a library: GitPython runs the same CLI underneath, dulwich computes diffs in
pure Python, and pygit2 would add a native dependency for what one streaming `git log` already gives
(rename and copy detection, numstat-exact counts), with flat memory whatever the history.
"""

from producers.git.command import GitError
from producers.git.log import count_commits, iter_code_changes
from producers.git.range import GitRange
from producers.git.remote import repository_name

__all__ = ["GitError", "GitRange", "count_commits", "iter_code_changes", "repository_name"]
