"""`labbook serve paid-content` in a real browser: sign in with Cognito, list, play a signed video.

GIVEN the paid-content lab built by its own notebook on the moto-server backend and served on
127.0.0.1, and the passwords `labbook serve` printed for its Cognito users, WHEN Chromium (driven
by Playwright) signs in through the page's form, THEN a premium member sees the catalogue from the
API and plays a video through a CloudFront signed URL (an animated WebP in an <img>); a member who
is not premium sees the signer's refusal and no video; a wrong password shows Cognito's own
error. Screenshots land in .labbook/screenshots/ for a person to look at.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from tests.browser.serving import serving
from tests.chromium import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / ".labbook" / "screenshots"
NOTEBOOK = ROOT / "notebooks" / "03-paid-content" / "03-paid-content.ipynb"
ANA, BEN = "ana@example.com", "ben@example.com"

pytestmark = [
    pytest.mark.notebook,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Chromium is not installed: `make test` installs it with apt where it can "
        "(sudo apt-get install -y chromium)",
    ),
    pytest.mark.skipif(not NOTEBOOK.exists(), reason="the paid-content notebook is not built"),
]


@pytest.fixture(scope="module")
def served():
    with serving("paid-content", stop_timeout=180) as server:
        yield server


@pytest.fixture(scope="module")
def site(served):
    return served.wait_for(r"^Serving \S+\.cloudfront\.net at (http://127\.0\.0\.1:\d+)/", 900)[1]


@pytest.fixture(scope="module")
def passwords(site, served):
    """{email: (what serve said about the user, password)} for the page's user pool."""
    served.wait_for(r"^Users of the Cognito user pool \S+-viewers ", 120)
    found = {}
    while len(found) < 3:
        line = served.wait_for(r"^  sign in as (\S+)(?: \((.*)\))?  password: (\S+)$", 60)
        found[line[1]] = (line[2] or "", line[3])
    return found


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page(viewport={"width": 1100, "height": 800})
        browser.close()


def advance_lab_clock(site, seconds):
    """Let `seconds` of lab time pass in the served lab (its front's control host)."""
    request = urllib.request.Request(
        f"{site}/clock/advance?seconds={seconds}",
        method="POST",
        headers={"Host": "control.labbook.localhost"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200


def sign_in(page, site, email, password):
    page.goto(site + "/")
    page.fill("#sign-in-email", email)
    page.fill("#sign-in-password", password)
    page.click("#sign-in-form button")


def test_serve_prints_who_may_sign_in_and_who_is_premium(passwords):
    assert passwords[ANA][0] == "premium"
    assert passwords[BEN][0] == "not premium"
    assert passwords["backoffice@example.com"][0] == "group admins"


def test_a_premium_member_signs_in_and_plays_a_video(site, passwords, page):
    videos = []
    page.on(
        "response",
        lambda r: (
            videos.append((r.url, r.status))
            if "/videos/" in r.url and "/api/" not in r.url
            else None
        ),
    )
    sign_in(page, site, ANA, passwords[ANA][1])

    # the account, from GET /api/me, and the catalogue, from GET /api/videos
    page.wait_for_selector("#account:not([hidden])", timeout=30_000)
    assert page.inner_text("#account-email") == ANA
    assert page.inner_text("#account-badge") == "Premium"
    page.wait_for_selector("#videos li", timeout=30_000)
    ids = page.locator("#videos li").evaluate_all("items => items.map(i => i.dataset.id)")
    assert ids == [
        "security-01",
        "security-02",
        "serverless-01",
        "serverless-02",
        "serverless-03",
    ]

    # Play: the signer's URL, relative, through the edge's signature check
    page.click("#videos li[data-id='serverless-02'] button")
    page.wait_for_selector("#player-video:not([hidden])", timeout=30_000)
    width = page.evaluate(
        "() => { const i = document.getElementById('player-video');"
        " return i.complete ? i.naturalWidth : 0; }"
    )
    assert width == 320
    src = page.get_attribute("#player-video", "src")
    assert src.startswith("/videos/serverless/serverless-02.webp?")
    assert "Signature=" in src and "Key-Pair-Id=" in src and "Expires=" in src
    assert [status for url, status in videos if "Signature=" in url] == [200]
    assert "Playing" in page.inner_text("#play-status")
    page.screenshot(path=str(SHOTS / "paid-content-playing.png"), full_page=True)

    # sign out: back to the form, and the video is gone
    page.click("#sign-out")
    page.wait_for_selector("#signed-out:not([hidden])")
    assert page.locator("#player-video").get_attribute("src") is None


def test_a_member_who_is_not_premium_sees_the_refusal_and_no_video(site, passwords, page):
    sign_in(page, site, BEN, passwords[BEN][1])
    page.wait_for_selector("#account:not([hidden])", timeout=30_000)
    assert page.inner_text("#account-badge") == "Not premium"
    page.wait_for_selector("#videos li", timeout=30_000)

    page.click("#videos li[data-id='serverless-01'] button")
    page.wait_for_function(
        "document.getElementById('play-status').dataset.kind === 'error'", timeout=30_000
    )
    assert page.inner_text("#play-status") == (
        "videos are for premium members: buy a membership first"
    )
    assert page.is_hidden("#player-video")
    assert page.get_attribute("#player-video", "src") is None
    page.screenshot(path=str(SHOTS / "paid-content-not-premium.png"), full_page=True)


def test_a_wrong_password_shows_cognitos_error(site, passwords, page):
    sign_in(page, site, ANA, passwords[ANA][1] + "x")
    page.wait_for_function(
        "document.getElementById('sign-in-status').dataset.kind === 'error'", timeout=30_000
    )
    assert page.inner_text("#sign-in-status") == "Incorrect username or password."
    assert page.is_hidden("#signed-in")
    page.screenshot(path=str(SHOTS / "paid-content-wrong-password.png"), full_page=True)


def test_an_expired_id_token_is_refreshed_and_the_video_still_plays(site, passwords, page):
    # GIVEN Ana signed in, WHEN five minutes and a second pass (her ID token's lifetime)
    sign_in(page, site, ANA, passwords[ANA][1])
    page.wait_for_selector("#videos li", timeout=30_000)
    links, refreshes = [], []
    page.on(
        "response",
        lambda r: links.append(r.status) if r.url.endswith("/api/videos/security-02/url") else None,
    )
    page.on(
        "request",
        lambda r: refreshes.append(r.url) if "REFRESH_TOKEN_AUTH" in (r.post_data or "") else None,
    )
    advance_lab_clock(site, 301)

    # THEN Play meets the authorizer's 401, the page refreshes the tokens, asks again and plays
    page.click("#videos li[data-id='security-02'] button")
    page.wait_for_selector("#player-video:not([hidden])", timeout=30_000)
    assert links == [401, 200]
    assert refreshes == [f"{site}/_aws/cognito-idp/"]
    assert page.inner_text("#account-email") == ANA
