"""The page in a real browser (Debian's Chromium, driven by Playwright; never a browser download),
against a real broker holding results: the snapshot first, then live results, pause, filters in
the URL, a developer's page; a screenshot is saved as an artifact."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from aexy_stream.dashboard.board import Board
from aexy_stream.dashboard.config import DashboardConfig
from aexy_stream.dashboard.server import serving
from consumers import headers as h
from consumers.config import Topics
from schemas.types import AnalysisType as T
from tests.dashboard import samples as s
from tests.dashboard.conftest import feed, served
from tests.plugins.kafka import KafkaBroker, produce

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip
PSEUDONYM = "dev_0123456789abcdef0123"

NO_CHROMIUM = "needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM), pytest.mark.slow]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        await launched.close()


async def page_of(browser: Browser, errors: list[str]) -> Page:
    page = await browser.new_page(viewport={"width": 1400, "height": 950})
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return page


def results() -> list[bytes]:
    return [
        s.value(T.TEAM_HEALTH, "libuv/libuv", s.team_health(0.62, "watch", 3), s.later(-60)),
        s.value(T.TEAM_HEALTH, "libuv/libuv", s.team_health(0.48, "at_risk", 2), s.later(0)),
        s.value(T.TEAM_HEALTH, "nodejs/node", s.team_health(0.81, "healthy", 6), s.later(0)),
        s.value(T.ATTRITION_RISK, "mona@old.example", s.attrition(0.35), s.later(-30)),
        s.value(T.ATTRITION_RISK, "mona", s.attrition(0.82), s.later(1)),
        s.value(T.BURNOUT_RISK, "mona", s.burnout(0.55), s.later(1)),
        s.value(T.PERFORMANCE_TRAJECTORY, "mona", s.performance(0.4, "declining"), s.later(1)),
        s.value(T.DEVELOPER_PROFILE, "mona", s.profile(), s.later(1)),
        s.value(T.SKILL_EXTRACTION, "mona", s.skills(), s.later(1)),
        s.value(T.SOFT_SKILLS, "mona", s.soft_skills(), s.later(1)),
        s.value(T.GROWTH_TRAJECTORY, "mona", s.growth(), s.later(1)),
        s.value(T.ATTRITION_RISK, "bert", s.attrition(0.12), s.later(2)),
        s.value(T.BURNOUT_RISK, "bert", s.burnout(0.2), s.later(2)),
        s.value(T.ATTRITION_RISK, PSEUDONYM, s.attrition(0.45), s.later(3)),
        s.value(T.TASK_MATCHING, "libuv/libuv", s.task_matching(["mona", "bert"]), s.later(4)),
    ]


async def until(check: Callable[[], bool], timeout_s: float = 20.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not check():  # noqa: ASYNC110  (the reader task changes the board)
            await asyncio.sleep(0.05)


async def test_the_page_shows_the_state_then_follows_the_topic(
    kafka: KafkaBroker, topics: Topics, browser: Browser, tmp_path: Path
) -> None:
    servers = kafka.bootstrap_servers
    await produce(servers, topics.results, results(), key=b"k")
    merge = [(h.RECORD_TYPE, b"identity_merged")]
    await produce(servers, topics.results, [s.merge("mona", "mona@old.example")], key=b"mona", headers=merge)
    board = Board(DashboardConfig(bootstrap_servers=servers, topic=topics.results, port=0))
    errors: list[str] = []
    async with serving(board) as port:
        await until(lambda: board.status.ready)
        url = f"http://127.0.0.1:{port}/"
        page = await page_of(browser, errors)
        await team_view(page, url, tmp_path)
        await people_view(page, tmp_path)
        await developer_view(page, tmp_path)

        async def publish(*values: bytes) -> None:
            await produce(servers, topics.results, list(values), key=b"live")

        await live_feed(page, url, publish)
        await paused_feed(page, publish)
        await filter_survives_a_reload(page, tmp_path)
    assert errors == []  # no script error, nothing the content security policy refused, no 404


async def team_view(page: Page, url: str, shots: Path) -> None:
    """Filled from the snapshot, the least healthy first, with its trend."""
    await page.goto(f"{url}?view=team")
    cards = page.locator("#teams article")
    await expect(cards).to_have_count(2)
    await expect(cards.nth(0)).to_contain_text("libuv/libuv")
    await expect(cards.nth(0)).to_contain_text("at risk")
    await expect(cards.nth(0).locator("dd").nth(0)).to_have_text("2")  # bus factor
    await expect(cards.nth(0)).to_contain_text("-0.14")  # 0.62 -> 0.48
    await expect(cards.nth(0)).to_contain_text("knowledge concentrated")
    await expect(cards.nth(1)).to_contain_text("nodejs/node")
    await expect(page.locator("#catching-up")).to_be_hidden()
    await page.screenshot(path=str(shots / "dashboard-team.png"), full_page=True)


async def people_view(page: Page, shots: Path) -> None:
    """One row per person (the merge folded mona's old address), highest attrition first; a row
    opens its factors with their evidence, and the recommendations."""
    await page.click("#nav a[data-view=people]")
    rows = page.locator("#people-body tr.row")
    await expect(rows).to_have_count(3)
    await expect(rows.nth(0)).to_contain_text("mona")
    await expect(rows.nth(0)).to_contain_text("critical")
    await expect(rows.nth(1)).to_contain_text(PSEUDONYM)
    await expect(rows.nth(1).locator(".tag")).to_have_text("pseudonym")
    await expect(rows.nth(2)).to_contain_text("bert")
    await rows.nth(0).click()
    details = page.locator("#people-body tr.details")
    await expect(details).to_contain_text("12 commits a week before, 3 now")
    await expect(details).to_contain_text("Have a one-to-one about current work")
    await expect(details).to_contain_text("weekend work every week")
    await page.screenshot(path=str(shots / "dashboard-people.png"), full_page=True)
    await page.click("#people-head button[data-sort=subject]")
    await page.click("#people-head button[data-sort=subject]")
    await expect(page).to_have_url(re.compile(r"sort=subject"))
    await expect(rows.nth(0)).to_contain_text("bert")


async def developer_view(page: Page, shots: Path) -> None:
    """Profile, skills with evidence, each result's history as a sparkline."""
    await page.click("#people-body a:has-text('mona')")
    developer = page.locator("#developer")
    await expect(developer).to_contain_text("senior")
    await expect(developer).to_contain_text("epoll_wait in core.c")
    await expect(developer).to_contain_text("collaboration8 / 10")
    history = developer.locator("table.history tr")
    await expect(history).to_have_count(7)
    await expect(history.filter(has_text="attrition risk")).to_contain_text("2 results")  # the merged two
    assert await developer.locator("table.history svg.spark polyline").count() == 7
    await page.screenshot(path=str(shots / "dashboard-developer.png"), full_page=True)


async def live_feed(page: Page, url: str, publish: Callable[..., Awaitable[None]]) -> None:
    """A new result appears at the top without a reload; its JSON shows its provenance."""
    await page.goto(f"{url}?view=feed")
    feed = page.locator("#feed li")
    await expect(feed.first).to_be_visible()
    await publish(s.value(T.BURNOUT_RISK, "lin", s.burnout(0.9), s.later(9)))
    await expect(feed.first).to_contain_text("lin")
    await expect(feed.first).to_contain_text("critical")
    await feed.first.click()
    detail = page.locator("#detail")
    await expect(detail).to_contain_text("rules-v1")
    await expect(detail).to_contain_text("github.activity [1] @ 0")  # the input's topic, partition, offset
    await expect(detail.locator("pre.json")).to_contain_text('"prompt_version": "v3"')


async def paused_feed(page: Page, publish: Callable[..., Awaitable[None]]) -> None:
    """Paused, new results are counted and not shown, until resumed."""
    feed = page.locator("#feed li")
    await page.click("#pause")
    await publish(
        *(s.value(T.ATTRITION_RISK, f"new{n}", s.attrition(0.3), s.later(10 + n)) for n in range(3))
    )
    await expect(page.locator("#new-count")).to_have_text("3 new")
    await expect(feed.first).to_contain_text("lin")
    await page.click("#pause")
    await expect(feed.first).to_contain_text("new2")
    await expect(page.locator("#new-count")).to_be_hidden()


async def filter_survives_a_reload(page: Page, shots: Path) -> None:
    feed = page.locator("#feed li")
    await page.select_option("#filters select[name=type]", "attrition_risk")
    await expect(page).to_have_url(re.compile(r"type=attrition_risk"))
    await page.reload()
    await expect(page.locator("#filters select[name=type]")).to_have_value("attrition_risk")
    await expect(feed.first).to_be_visible()
    types = await feed.evaluate_all("items => items.map(item => item.dataset.type)")
    assert len(types) == 7 and set(types) == {"attrition_risk"}
    await page.screenshot(path=str(shots / "dashboard-feed.png"), full_page=True)


async def test_a_page_loaded_before_the_reader_caught_up_says_so(browser: Browser) -> None:
    board = Board(DashboardConfig())  # nothing reads into it: never caught up
    board.status.to_read = 1200
    errors: list[str] = []
    async with served(board) as url:
        page = await page_of(browser, errors)
        await page.goto(f"{url}/?view=people")
        await expect(page.locator("#catching-up")).to_contain_text("Catching up")
        await expect(page.locator("#catching-up")).to_contain_text("0 of 1,200 records")
        board.status.ready = True
        board.status_changed()
        await expect(page.locator("#catching-up")).to_be_hidden()
    assert errors == []


async def test_a_long_people_table_builds_only_the_rows_on_screen_and_follows_scrolling(
    browser: Browser,
) -> None:
    """300 developers: the rows near the screen are built, the rest stand in spacers of their height;
    scrolling to the end shows the last developer, and results arriving meanwhile are applied."""
    board = Board(DashboardConfig())
    board.status.ready = True
    people = [f"dev{n:03d}" for n in range(300)]
    feed(
        board,
        *[
            s.value(T.ATTRITION_RISK, p, s.attrition(0.9 - n / 1000), s.later(n))
            for n, p in enumerate(people)
        ],
    )
    errors: list[str] = []
    async with served(board) as url:
        page = await page_of(browser, errors)
        await page.goto(f"{url}/?view=people")
        rows = page.locator("#people-body tr.row")
        await expect(rows.first).to_contain_text("dev000")  # highest attrition first
        built = await rows.count()
        assert 20 <= built < 100
        height = await page.evaluate("() => document.getElementById('people').getBoundingClientRect().height")
        row_px = await rows.first.evaluate("row => row.getBoundingClientRect().height")
        assert height >= 300 * row_px * 0.9  # the spacers keep the table as tall as all its rows
        await page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        await expect(rows.last).to_contain_text("dev299")
        await expect(page.locator("#people-body tr.row", has_text="dev000")).to_have_count(0)
        feed(board, s.value(T.ATTRITION_RISK, "dev299", s.attrition(0.01), s.later(400)))
        await expect(rows.last.locator(".num").first).to_have_text("0.01")
    assert errors == []
