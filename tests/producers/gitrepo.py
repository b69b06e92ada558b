"""A sample git repository built with the `git` CLI, for the git backfill tests (and the CLI's).

`build_sample_repo(path)` makes, on branch `main`: merges (one of two parents, one octopus of four),
a rename with a modification, a binary file, a 5 MB diff, a non-UTF-8 file, file names git quotes
(non-ASCII, a quote, a tab, non-UTF-8 bytes), a copy, a type change
(symlink -> file), a mode change, a deletion, an empty commit, and timestamps with different offsets
for author and committer. Every date is fixed, so shas are the same on every run and machine.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

START = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
BIG_LINES = 100_000
BIG_LINE = "0123456789" * 5  # 50 characters + newline: 5.1 MB of added lines
ALICE = ("Alice Example", "alice@example.com")
BOB = ("Bob Example", "bob@example.org")
CAROL = ("Carol Committer", "carol@example.net")


@dataclass
class _Builder:
    path: Path
    hour: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    times: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    people: dict[str, tuple[tuple[str, str], tuple[str, str]]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    merges: list[str] = field(default_factory=list)

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["git", "-C", str(self.path), *args],
            env={**_base_env(), **(env or {})},
            capture_output=True,
            check=True,
        )
        return done.stdout.decode().strip()

    def write(self, name: str, content: bytes | str) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)

    def commit(self, label: str, message: str, **kw: Any) -> str:
        self.git("add", "-A")
        return self._record(label, ("commit", "-q", "--allow-empty", "-m", message), merge=False, **kw)

    def merge(self, label: str, *branches: str, **kw: Any) -> str:
        return self._record(label, ("merge", "-q", "--no-ff", "-m", f"Merge {label}", *branches), True, **kw)

    def _record(
        self,
        label: str,
        args: tuple[str, ...],
        merge: bool,
        author_tz: float = 0.0,
        committer_tz: float | None = None,
        author: tuple[str, str] = ALICE,
        committer: tuple[str, str] | None = None,
    ) -> str:
        self.hour += 1
        moment = START + timedelta(hours=self.hour)
        times = (_at(moment, author_tz), _at(moment + timedelta(minutes=5), _tz(committer_tz, author_tz)))
        who = (author, committer or author)
        self.git(*args, env=_identity(who, times))
        sha = self.git("rev-parse", "HEAD")
        self.labels[label], self.times[label], self.people[label] = sha, times, who
        (self.merges if merge else self.order).append(label)
        return sha


def build_sample_repo(path: Path) -> dict[str, Any]:
    """Build the repository at `path` (created if needed). Returns what was made:

    - `labels`: label -> sha of every commit; `commits`: the non-merge labels, oldest first;
      `merges`: the merge labels; `times`: label -> (authored_at, committed_at), aware datetimes;
      `people`: label -> ((author name, email), (committer name, email));
    - `branch`: "feature", a branch holding only `initial`, `binary`, `rename` and `feature`;
    - `big_lines`: lines added by `big` (a 5.1 MB diff); `head`: sha of main.
    """
    path.mkdir(parents=True, exist_ok=True)
    repo = _Builder(path)
    repo.git("init", "-q", "-b", "main")
    _history(repo)
    return {
        "labels": dict(repo.labels),
        "commits": list(repo.order),
        "merges": list(repo.merges),
        "times": dict(repo.times),
        "people": dict(repo.people),
        "branch": "feature",
        "big_lines": BIG_LINES,
        "head": repo.git("rev-parse", "HEAD"),
    }


def _history(repo: _Builder) -> None:
    repo.write("README.md", "# Sample\n\nA repository for tests.\n")
    repo.write("src/app.py", "".join(f"line {n}\n" for n in range(1, 21)))
    repo.write("docs/link", "unused\n")
    os.symlink("../README.md", repo.path / "docs" / "guide.md")
    repo.commit("initial", "Initial commit\n\nWith a body\nof two lines.", author_tz=5.5)
    repo.write("assets/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    repo.commit("binary", "Add a binary logo", author_tz=-8, author=BOB)
    repo.git("mv", "README.md", "docs/README.md")
    repo.write("docs/README.md", "# Sample\n\nA repository for tests.\nMoved to docs.\n")
    repo.commit("rename", "Move the README", author_tz=2, committer_tz=-3.5, committer=CAROL)
    _branches(repo)
    _large_and_odd(repo)


def _branches(repo: _Builder) -> None:
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("feature.py", "def feature() -> int:\n    return 1\n")
    repo.commit("feature", "Add the feature", author_tz=1)
    repo.git("checkout", "-q", "main")
    repo.write("src/app.py", "".join(f"line {n}\n" for n in range(1, 21)) + "line 21\n")
    repo.commit("main_work", "Work on main", author_tz=0)
    repo.merge("merge_feature", "feature", committer=CAROL)
    for name in ("o1", "o2", "o3"):
        repo.git("checkout", "-q", "-b", name, "main")
        repo.write(f"{name}.txt", f"{name}\n")
        repo.commit(name, f"Add {name}", author_tz=9)
    repo.git("checkout", "-q", "main")
    repo.merge("octopus", "o1", "o2", "o3")


def _large_and_odd(repo: _Builder) -> None:
    repo.write("big.txt", "".join(f"{BIG_LINE}\n" for _ in range(BIG_LINES)))
    repo.commit("big", "Add a 5 MB file", author_tz=-5)
    repo.write("latin1.txt", "café crème\n".encode("latin-1"))
    repo.commit("latin1", "Add a Latin-1 file", author_tz=1)
    repo.write('names/naïve "quoted"\tname.txt', "quoted by git\n")
    with open(os.path.join(os.fsencode(repo.path), b"names", b"latin1-caf\xe9.txt"), "wb") as out:
        out.write(b"a file whose name is not UTF-8\n")
    repo.commit("names", "Files with special names", author_tz=4)
    repo.commit("empty", "An empty commit", author_tz=12, committer_tz=-11)
    app = (repo.path / "src" / "app.py").read_text()
    repo.write("src/app.py", app.replace("line 1\n", "line one\n"))
    repo.write("src/app_copy.py", app)
    repo.commit("copy", "Copy the app", author_tz=3)
    (repo.path / "docs" / "guide.md").unlink()
    repo.write("docs/guide.md", "# Guide\n")
    (repo.path / "feature.py").chmod(0o755)
    (repo.path / "assets" / "logo.png").unlink()
    repo.commit("mixed", "Type change, mode change and a deletion", author_tz=-2.5)


def _at(moment: datetime, hours: float) -> datetime:
    return moment.astimezone(timezone(timedelta(hours=hours)))


def _tz(committer_tz: float | None, author_tz: float) -> float:
    return author_tz if committer_tz is None else committer_tz


def _identity(
    who: tuple[tuple[str, str], tuple[str, str]], times: tuple[datetime, datetime]
) -> dict[str, str]:
    (author, committer), (authored, committed) = who, times
    return {
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_AUTHOR_DATE": authored.isoformat(),
        "GIT_COMMITTER_NAME": committer[0],
        "GIT_COMMITTER_EMAIL": committer[1],
        "GIT_COMMITTER_DATE": committed.isoformat(),
    }


def _base_env() -> dict[str, str]:
    """No user or system configuration (signing, hooks, default branch), no repository from outside."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**kept, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}


def build_long_repo(path: Path, commits: int, files: int = 20, start: datetime = START) -> list[str]:
    """A linear history of `commits` commits (3 files changed each), one a minute from `start` (dated
    at +0200), made fast with `git fast-import`.

    Returns the commit shas, oldest first.
    """
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "-C", str(path), "init", "-q", "-b", "main"], env=_base_env(), check=True)
    importer = subprocess.Popen(
        ["git", "-C", str(path), "fast-import", "--quiet"],
        stdin=subprocess.PIPE,
        env=_base_env(),
    )
    assert importer.stdin is not None
    with importer.stdin as stream:
        for number in range(commits):
            stream.write(_fast_import_commit(number, files, start))
    assert importer.wait() == 0
    listed = subprocess.run(
        ["git", "-C", str(path), "rev-list", "--reverse", "main"],
        env=_base_env(),
        capture_output=True,
        check=True,
    )
    return listed.stdout.decode().split()


def _fast_import_commit(number: int, files: int, start: datetime) -> bytes:
    when = int(start.timestamp()) + number * 60
    message = f"Commit {number}\n".encode()
    head = (
        "commit refs/heads/main\n"
        f"author Dev {number % 5} <dev{number % 5}@example.com> {when} +0200\n"
        f"committer Dev {number % 5} <dev{number % 5}@example.com> {when} +0200\n"
    ).encode() + b"data %d\n%s\n" % (len(message), message)
    changes = b"".join(_fast_import_file(number, (number + k * 7) % files) for k in range(3))
    return head + changes


def _fast_import_file(number: int, index: int) -> bytes:
    lines = [f"line {n} of module {index}\n" for n in range(100)]
    lines[number % 100] = f"changed by commit {number}\n"
    blob = "".join(lines).encode()
    return b"M 100644 inline src/mod%d.py\ndata %d\n%s\n" % (index, len(blob), blob)
