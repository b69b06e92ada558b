"""Reading git history as CodeChangeEvents: a sample repository built here, and this project's own."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from producers.git import GitError, GitRange, count_commits, iter_code_changes, repository_name
from producers.git.remote import name_from_url
from schemas.events import CodeChangeEvent, FileChange
from tests.producers.gitrepo import BIG_LINES, build_long_repo, build_sample_repo

PROJECT = Path(__file__).resolve().parents[2]


IDENTITY = {
    **{"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_AUTHOR_DATE": "2024-02-01T10:00Z"},
    **{
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_COMMITTER_DATE": "2024-02-01T10:00Z",
    },
    **{"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"},
}


def git(path: Path, *args: str) -> str:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")}, **IDENTITY}
    done = subprocess.run(["git", "-C", str(path), *args], capture_output=True, check=True, env=env)
    return done.stdout.decode(errors="replace").strip()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("sample") / "widgets"
    return {**build_sample_repo(path), "path": path}


@pytest.fixture(scope="module")
def events(sample: dict[str, Any]) -> dict[str, CodeChangeEvent]:
    """The sample's events by label (in iteration order)."""
    by_sha = {sha: label for label, sha in sample["labels"].items()}
    return {by_sha[e.sha]: e for e in iter_code_changes(GitRange(sample["path"], repo_name="acme/widgets"))}


def files_of(event: CodeChangeEvent) -> dict[str, FileChange]:
    return {f.path: f for f in event.files}


# -- which commits, in which order -------------------------------------------------------------------


def test_one_event_per_non_merge_commit_oldest_first(sample: dict[str, Any]) -> None:
    shas = [e.sha for e in iter_code_changes(GitRange(sample["path"]))]

    assert shas == [sample["labels"][label] for label in sample["commits"]]
    assert count_commits(GitRange(sample["path"])) == len(sample["commits"]) == 14


def test_merges_including_the_octopus_are_skipped(sample: dict[str, Any], events: dict[str, Any]) -> None:
    merge_parents = git(sample["path"], "rev-list", "--merges", "--parents", "HEAD").splitlines()
    parent_counts = sorted(len(line.split()) - 1 for line in merge_parents)

    assert parent_counts == [2, 4]  # one ordinary merge, one octopus of three branches into main
    assert {line.split()[0] for line in merge_parents} == {sample["labels"][m] for m in sample["merges"]}
    assert all(not e.is_merge for e in events.values())
    assert {"o1", "o2", "o3", "feature"} <= events.keys()


def test_identities_dates_with_their_own_offsets_and_messages(
    sample: dict[str, Any], events: dict[str, CodeChangeEvent]
) -> None:
    for label, event in events.items():
        authored, committed = sample["times"][label]
        author, committer = sample["people"][label]
        assert (event.authored_at, event.authored_at.utcoffset()) == (authored, authored.utcoffset())
        assert event.committed_at is not None
        assert (event.committed_at, event.committed_at.utcoffset()) == (committed, committed.utcoffset())
        assert (event.author.name, event.author.email, event.author.login) == (*author, None)
        assert event.committer is not None
        assert (event.committer.name, event.committer.email) == committer

    rename = events["rename"]
    assert rename.authored_at.isoformat() == "2024-01-01T14:00:00+02:00"
    assert rename.committed_at is not None
    assert rename.committed_at.isoformat() == "2024-01-01T08:35:00-03:30"
    assert events["initial"].message == "Initial commit\n\nWith a body\nof two lines."
    assert events["empty"].message == "An empty commit"


def test_parents_and_ids(sample: dict[str, Any], events: dict[str, CodeChangeEvent]) -> None:
    labels = sample["labels"]

    assert events["initial"].parents == ()
    assert events["binary"].parents == (labels["initial"],)
    assert events["big"].parents == (labels["octopus"],)
    for event in events.values():
        assert event.repository == "acme/widgets"
        assert event.event_id == hashlib.sha256(f"acme/widgets@{event.sha}".encode()).hexdigest()


# -- files -------------------------------------------------------------------------------------------


def test_added_files_with_exact_patches(events: dict[str, CodeChangeEvent]) -> None:
    files = files_of(events["initial"])

    assert sorted(files) == ["README.md", "docs/guide.md", "docs/link", "src/app.py"]
    assert files["README.md"] == FileChange(
        path="README.md",
        status="added",
        additions=3,
        deletions=0,
        patch="@@ -0,0 +1,3 @@\n+# Sample\n+\n+A repository for tests.",
    )
    assert files["docs/guide.md"].patch == "@@ -0,0 +1 @@\n+../README.md\n\\ No newline at end of file"


def test_rename_keeps_the_previous_path(events: dict[str, CodeChangeEvent]) -> None:
    assert events["rename"].files == (
        FileChange(
            path="docs/README.md",
            previous_path="README.md",
            status="renamed",
            additions=1,
            deletions=0,
            patch="@@ -1,3 +1,4 @@\n # Sample\n \n A repository for tests.\n+Moved to docs.",
        ),
    )


def test_binary_files_are_flagged_without_patch(events: dict[str, CodeChangeEvent]) -> None:
    added = files_of(events["binary"])["assets/logo.png"]
    removed = files_of(events["mixed"])["assets/logo.png"]

    assert (added.status, added.binary, added.patch, added.additions, added.deletions) == (
        "added",
        True,
        None,
        0,
        0,
    )
    assert (removed.status, removed.binary, removed.patch) == ("removed", True, None)


def test_a_5mb_diff_over_the_cap_keeps_counts_but_no_patch(events: dict[str, CodeChangeEvent]) -> None:
    big = files_of(events["big"])["big.txt"]

    assert (big.status, big.additions, big.deletions, big.patch, big.binary) == (
        "added",
        BIG_LINES,
        0,
        None,
        False,
    )


def test_the_cap_is_on_the_patch_bytes(sample: dict[str, Any]) -> None:
    sha = sample["labels"]["main_work"]
    patch = "@@ -18,3 +18,4 @@ line 17\n line 18\n line 19\n line 20\n+line 21"
    exact = GitRange(sample["path"], branch=sha, max_patch_bytes=len(patch))
    under = GitRange(sample["path"], branch=sha, max_patch_bytes=len(patch) - 1)

    assert list(iter_code_changes(exact))[-1].files[0].patch == patch
    assert list(iter_code_changes(under))[-1].files[0].patch is None
    assert list(iter_code_changes(under))[-1].files[0].additions == 1


def test_a_large_diff_is_never_held_whole(sample: dict[str, Any]) -> None:
    """The 5.1 MB diff streams through: traced memory stays far below it (uncapped it is ~22 MB)."""
    tracemalloc.start()
    try:
        for _ in iter_code_changes(GitRange(sample["path"])):
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 2_000_000


def test_uncapped_the_whole_patch_is_kept(sample: dict[str, Any]) -> None:
    big_sha = sample["labels"]["big"]
    event = list(iter_code_changes(GitRange(sample["path"], branch=big_sha, max_patch_bytes=10**8)))[-1]
    patch = event.files[0].patch

    assert patch is not None
    assert patch.count("\n") == BIG_LINES
    assert patch.startswith(f"@@ -0,0 +1,{BIG_LINES} @@\n+0123456789")


def test_non_utf8_content_is_decoded_with_replacement(events: dict[str, CodeChangeEvent]) -> None:
    latin1 = files_of(events["latin1"])["latin1.txt"]

    assert latin1.patch == "@@ -0,0 +1 @@\n+caf\ufffd cr\ufffdme"
    assert (latin1.additions, latin1.binary) == (1, False)


def test_paths_git_quotes_are_unquoted(events: dict[str, CodeChangeEvent]) -> None:
    assert sorted(files_of(events["names"])) == [
        "names/latin1-caf\ufffd.txt",
        'names/naïve "quoted"\tname.txt',
    ]
    assert (
        files_of(events["names"])['names/naïve "quoted"\tname.txt'].patch == "@@ -0,0 +1 @@\n+quoted by git"
    )


def test_empty_commit_has_no_files(events: dict[str, CodeChangeEvent]) -> None:
    assert events["empty"].files == ()


def test_copy_type_change_mode_change(events: dict[str, CodeChangeEvent]) -> None:
    copy = files_of(events["copy"])
    mixed = files_of(events["mixed"])

    assert copy["src/app_copy.py"] == FileChange(
        path="src/app_copy.py", previous_path="src/app.py", status="copied", additions=0, deletions=0
    )
    assert (copy["src/app.py"].status, copy["src/app.py"].additions, copy["src/app.py"].deletions) == (
        "modified",
        1,
        1,
    )
    assert mixed["docs/guide.md"] == FileChange(
        path="docs/guide.md",
        status="changed",
        additions=1,
        deletions=1,
        patch="@@ -1 +0,0 @@\n-../README.md\n\\ No newline at end of file\n@@ -0,0 +1 @@\n+# Guide",
    )
    assert mixed["feature.py"] == FileChange(path="feature.py", status="modified")


def numstat(path: Path, sha: str) -> dict[str, tuple[int, int, bool]]:
    """git's own --numstat (-z, so renames name both paths whole): path -> (added, deleted, binary)."""
    out = git(path, "show", "--numstat", "-z", "--format=", "--find-renames", "--find-copies", sha)
    tokens, counts = iter(out.split("\0")), {}
    for token in tokens:
        if not token.strip():
            continue
        added, deleted, name = token.lstrip("\n").split("\t", 2)
        if not name:  # a rename or copy: old and new path follow
            _, name = next(tokens), next(tokens)
        binary = added == "-"
        counts[name] = (0 if binary else int(added), 0 if binary else int(deleted), binary)
    return counts


@pytest.mark.parametrize("where", ["sample", "project"])
def test_counts_equal_git_numstat_for_every_file(where: str, sample: dict[str, Any]) -> None:
    path = sample["path"] if where == "sample" else PROJECT
    head = git(path, "rev-parse", "HEAD")
    checked = 0
    for event in iter_code_changes(GitRange(path, branch=head)):
        mine = {f.path: (f.additions, f.deletions, f.binary) for f in event.files}
        assert mine == numstat(path, event.sha), event.sha
        checked += len(mine)
    assert checked > 15


# -- ranges ------------------------------------------------------------------------------------------


def test_since_and_until_are_inclusive_committer_dates(sample: dict[str, Any]) -> None:
    since, until = sample["times"]["big"][1], sample["times"]["copy"][1]
    expected = [sample["labels"][label] for label in ("big", "latin1", "names", "empty", "copy")]
    r = GitRange(sample["path"], since=since, until=until)

    assert [e.sha for e in iter_code_changes(r)] == expected
    assert count_commits(r) == 5
    just_after = GitRange(sample["path"], since=since + timedelta(seconds=0.5), until=until)
    assert [e.sha for e in iter_code_changes(just_after)] == expected[1:]


def test_naive_datetimes_are_utc(sample: dict[str, Any]) -> None:
    since = sample["times"]["empty"][1].astimezone(UTC).replace(tzinfo=None)
    shas = [e.sha for e in iter_code_changes(GitRange(sample["path"], since=since))]

    assert shas == [sample["labels"][label] for label in ("empty", "copy", "mixed")]


def test_a_range_before_any_commit_is_empty(sample: dict[str, Any]) -> None:
    r = GitRange(sample["path"], until=datetime(2000, 1, 1, tzinfo=UTC))

    assert list(iter_code_changes(r)) == []
    assert count_commits(r) == 0


def test_branch_and_ref_selection(sample: dict[str, Any]) -> None:
    labels = sample["labels"]
    on_branch = [e.sha for e in iter_code_changes(GitRange(sample["path"], branch=sample["branch"]))]
    at_sha = GitRange(sample["path"], branch=labels["rename"][:10])

    assert on_branch == [labels[label] for label in ("initial", "binary", "rename", "feature")]
    assert [e.sha for e in iter_code_changes(at_sha)] == [labels[k] for k in ("initial", "binary", "rename")]
    assert count_commits(GitRange(sample["path"], branch="o2")) == 6


# -- names and errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://github.com/acme/widgets.git", "acme/widgets"),
        ("https://github.com/acme/widgets", "acme/widgets"),
        ("https://user:token@github.com/acme/widgets.git/", "acme/widgets"),
        ("git@github.com:acme/widgets.git", "acme/widgets"),
        ("ssh://git@github.com:22/acme/widgets.git", "acme/widgets"),
        ("git@github.example.com:acme/my.widgets", "acme/my.widgets"),
        ("https://gitlab.com/group/sub/project.git", ""),
        ("/srv/git/widgets.git", ""),
        ("", ""),
    ],
)
def test_name_from_remote_url(url: str, name: str) -> None:
    assert name_from_url(url) == name


def test_repository_name_from_origin_else_the_directory(tmp_path: Path) -> None:
    repo = tmp_path / "my widgets"
    build_long_repo(repo, 2)
    assert repository_name(repo) == "local/my-widgets"

    git(repo, "remote", "add", "origin", "git@github.com:acme/widgets.git")
    assert repository_name(repo) == "acme/widgets"
    event = next(iter_code_changes(GitRange(repo)))
    assert (event.repository, event.event_id) == (
        "acme/widgets",
        hashlib.sha256(f"acme/widgets@{event.sha}".encode()).hexdigest(),
    )


def test_bare_repository_is_named_after_its_directory(tmp_path: Path) -> None:
    build_long_repo(tmp_path / "work", 3)
    git(tmp_path, "clone", "-q", "--bare", str(tmp_path / "work"), str(tmp_path / "widgets.git"))
    git(tmp_path / "widgets.git", "remote", "remove", "origin")

    assert repository_name(tmp_path / "widgets.git") == "local/widgets"
    assert count_commits(GitRange(tmp_path / "widgets.git")) == 3


def test_a_bad_repository_name_is_refused() -> None:
    with pytest.raises(ValueError, match="owner/name"):
        GitRange(Path("."), repo_name="widgets")


def test_not_a_repository_fails_at_call_time_with_one_line(tmp_path: Path) -> None:
    with pytest.raises(GitError) as caught:
        iter_code_changes(GitRange(tmp_path))  # no iteration needed

    assert "not a git repository" in str(caught.value)
    assert "\n" not in str(caught.value)
    with pytest.raises(GitError, match="not a git repository"):
        count_commits(GitRange(tmp_path))
    with pytest.raises(GitError, match="cannot change to"):
        repository_name(tmp_path / "missing")


@pytest.mark.parametrize("ref", ["nope", "--output=/tmp/x", "HEAD~99"])
def test_unknown_or_invalid_ref(sample: dict[str, Any], ref: str) -> None:
    with pytest.raises(GitError, match="branch or ref"):
        iter_code_changes(GitRange(sample["path"], branch=ref))
    with pytest.raises(GitError, match="branch or ref"):
        count_commits(GitRange(sample["path"], branch=ref))


def test_repository_without_commits(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    with pytest.raises(GitError, match="unknown branch or ref 'HEAD'"):
        count_commits(GitRange(tmp_path))


def test_git_failing_mid_stream_raises_with_its_reason(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(f"{name}\n")
        git(tmp_path, "add", name)
        git(tmp_path, "commit", "-q", "-m", f"add {name}")
    blob = git(tmp_path, "rev-parse", "HEAD:b.txt")
    (tmp_path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    stream = iter_code_changes(GitRange(tmp_path))

    assert next(stream).files[0].path == "a.txt"
    with pytest.raises(GitError, match=f"git log failed in .*: unable to read {blob}"):
        next(stream)


def test_git_missing(monkeypatch: pytest.MonkeyPatch, sample: dict[str, Any]) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(GitError, match="git is not installed"):
        iter_code_changes(GitRange(sample["path"]))


# -- streaming ---------------------------------------------------------------------------------------


def git_children() -> list[int]:
    """Our child processes running git (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        name, _, rest = stat.partition(") ")
        if name.endswith("(git") and int(rest.split()[1]) == os.getpid():
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def long_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("long")
    return path, build_long_repo(path, 2000)


def test_stopping_early_ends_git(long_repo: tuple[Path, list[str]]) -> None:
    stream = iter_code_changes(GitRange(long_repo[0]))
    first = next(stream)

    assert first.message == "Commit 0"
    assert len(git_children()) == 1
    stream.close()
    assert git_children() == []


def test_history_is_streamed_not_loaded(long_repo: tuple[Path, list[str]]) -> None:
    """2,000 commits: traced memory stays under 2 MB while iterating (holding the events takes ~15 MB)."""
    path, shas = long_repo
    seen = 0
    tracemalloc.start()
    try:
        for seen, event in enumerate(iter_code_changes(GitRange(path)), 1):
            assert event.sha == shas[seen - 1]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert seen == 2000
    assert peak < 2_000_000


# -- this project's own history ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def project_head() -> str:
    return git(PROJECT, "rev-parse", "HEAD")


def test_project_history_counts_match_git(project_head: str) -> None:
    r = GitRange(PROJECT, branch=project_head)
    events = list(iter_code_changes(r))
    expected = int(git(PROJECT, "rev-list", "--count", "--no-merges", project_head))
    non_merges = set(git(PROJECT, "rev-list", "--no-merges", project_head).split())

    assert len(events) == count_commits(r) == expected
    assert {e.sha for e in events} == non_merges
    position = {e.sha: n for n, e in enumerate(events)}
    assert all(position[p] < position[e.sha] for e in events for p in e.parents if p in position)


def test_project_ids_and_events_are_stable_across_runs(project_head: str) -> None:
    def run() -> Iterator[CodeChangeEvent]:
        return iter_code_changes(GitRange(PROJECT, branch=project_head, repo_name="aexy/aexy-stream"))

    first, second = list(run()), list(run())

    assert [e.event_id for e in first] == [e.event_id for e in second]
    assert len({e.event_id for e in first}) == len(first)
    assert first == second
