"""Where links come from: push webhooks, API commits, noreply addresses, .mailmap, alias files, names."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from consumers.identity.keys import canonical, name_key, noreply_login
from consumers.identity.links import Link, links_of, read_aliases
from schemas.events import CodeChangeEvent, GitIdentity, parse_activity
from tests.corpora import WEBHOOKS

AT = datetime(2024, 1, 1, tzinfo=UTC)


def commit(author: GitIdentity, message: str = "Change") -> CodeChangeEvent:
    return CodeChangeEvent(
        repository="octo/app", sha="a" * 40, author=author, authored_at=AT, message=message
    )


@pytest.mark.parametrize(
    ("address", "login"),
    [
        ("169064+owenthereal@users.noreply.github.com", "owenthereal"),
        ("owenthereal@users.noreply.github.com", "owenthereal"),  # the form before 2017
        ("21031067+Codertocat@users.noreply.github.com", "codertocat"),
        ("dependabot[bot]@users.noreply.github.com", None),
        ("owen@noreply.github.com", None),
        ("owen@example.com", None),
    ],
)
def test_the_login_inside_a_noreply_address(address: str, login: str | None) -> None:
    assert noreply_login(address) == login


def test_a_push_webhook_links_each_commit_author_to_their_username() -> None:
    raw = (WEBHOOKS / "push" / "with-new-branch.payload.json").read_bytes()
    links = links_of(parse_activity(raw, "push", "d-1"), False, {})
    address = "email:21031067+codertocat@users.noreply.github.com"
    assert Link("login:codertocat", address, "login") in links
    assert Link(address, "login:codertocat", "noreply") in links


def test_an_api_commit_links_its_authors_login_and_address() -> None:
    event = commit(GitIdentity(name="Dora Dev", email="Dora@Example.com", login="dora"))
    assert links_of(event, False, {}) == [Link("login:dora", "email:dora@example.com", "login")]


def test_a_mailmapped_commit_links_the_written_address_to_the_mapped_one() -> None:
    author = GitIdentity(name="Dora Dev", email="dora@example.com", observed_email="dora@old-laptop.(none)")
    assert links_of(commit(author), False, {}) == [
        Link("email:dora@old-laptop.(none)", "email:dora@example.com", "mailmap")
    ]


def test_co_authors_bring_their_noreply_links() -> None:
    message = "Fix\n\nCo-authored-by: Owen <169064+owenthereal@users.noreply.github.com>"
    links = links_of(commit(GitIdentity(name="Dora", email="dora@example.com"), message), False, {})
    assert links == [
        Link("email:169064+owenthereal@users.noreply.github.com", "login:owenthereal", "noreply")
    ]


def test_names_link_only_when_asked_and_only_full_names() -> None:
    full = commit(GitIdentity(name="  Dora  DEV ", email="dora@example.com"))
    single = commit(GitIdentity(name="dora", email="dora@example.com"))
    assert links_of(full, False, {}) == []
    assert links_of(full, True, {}) == [Link("email:dora@example.com", "name:dora dev", "name")]
    assert links_of(single, True, {}) == []
    assert (
        name_key("Saúl Ibarra Corretgé") == name_key("SAÚL  ibarra corretgé") == "name:saúl ibarra corretgé"
    )


def test_an_alias_file_in_mailmap_format(tmp_path: Path) -> None:
    path = tmp_path / "aliases"
    path.write_text(
        "# people we know\n"
        "Dora Dev <dora@example.com> <dora@old.net>\n"
        "<dora@example.com> Dora at work <D.Dev@Work.com>\n"
        "Owen <owen@example.com>\n"  # a name correction: links nothing
        "\n"
    )
    aliases = read_aliases(path)
    assert aliases == {
        "email:dora@example.com": ("email:dora@old.net", "email:d.dev@work.com"),
        "email:dora@old.net": ("email:dora@example.com",),
        "email:d.dev@work.com": ("email:dora@example.com",),
    }
    event = commit(GitIdentity(name="Dora", email="dora@old.net"))
    assert links_of(event, False, aliases) == [Link("email:dora@old.net", "email:dora@example.com", "alias")]


@pytest.mark.parametrize(
    "line", ["Dora Dev dora@example.com", "Dora <> <dora@example.com>", "<not an address>"]
)
def test_an_alias_file_line_that_is_not_mailmap_is_refused_with_its_number(tmp_path: Path, line: str) -> None:
    path = tmp_path / "aliases"
    path.write_text(f"Dora <dora@example.com> <d@old.net>\n{line}\n")
    with pytest.raises(ValueError, match=r"aliases:2: not a \.mailmap line"):
        read_aliases(path)


def test_the_canonical_id_is_the_lowest_login_else_the_lowest_address() -> None:
    assert canonical({"email:a@x.org", "login:zed", "login:dora", "name:dora dev"}) == "login:dora"
    assert canonical({"email:b@x.org", "email:a@y.org", "name:a b"}) == "email:a@y.org"
