"""`labbook serve myblog` in a real browser: the site, its API, the welcome email, a thumbnail.

GIVEN the MyBlog lab built by its own notebook on the moto-server backend and served on
127.0.0.1, WHEN Chromium (driven by Playwright) loads the home page, subscribes and uploads a
photo through the page's forms, THEN the posts come from the API through the CloudFront front,
the welcome email is sent, and the photo's thumbnail appears on the page. Screenshots land in
.labbook/screenshots/ for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

from tests.browser.serving import serving
from tests.chromium import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / ".labbook" / "screenshots"
PHOTO = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"

pytestmark = [
    pytest.mark.notebook,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Chromium is not installed: `make test` installs it with apt where it can "
        "(sudo apt-get install -y chromium)",
    ),
]


@pytest.fixture(scope="module")
def served():
    with serving("myblog", stop_timeout=120) as server:
        yield server


@pytest.fixture(scope="module")
def site(served):
    return served.wait_for(r"^Serving \S+\.cloudfront\.net at (http://127\.0\.0\.1:\d+)/", 600)[1]


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page(viewport={"width": 1100, "height": 900})
        browser.close()


def test_the_home_page_lists_the_posts_from_the_api(site, page):
    page.goto(site + "/")
    page.wait_for_selector("#posts li", timeout=30_000)
    titles = page.locator("#posts li h2").all_inner_texts()
    assert "Cold starts, measured instead of feared" in titles
    assert page.get_attribute("#posts", "aria-busy") == "false"
    page.screenshot(path=str(SHOTS / "myblog-home.png"), full_page=True)


def test_a_post_page_shows_the_post(site, page):
    page.goto(site + "/post.html?id=cold-starts-measured")
    page.wait_for_selector("#post:not([hidden])", timeout=30_000)
    assert page.inner_text("#post-title") == "Cold starts, measured instead of feared"
    page.screenshot(path=str(SHOTS / "myblog-post.png"), full_page=True)


def test_subscribing_sends_the_welcome_email(site, served, page):
    page.goto(site + "/")
    page.fill("#subscribe-email", "success+browser@simulator.amazonses.com")
    page.fill("#subscribe-name", "Grace")
    page.click("#subscribe-form button")
    # the page says "Subscribing…" while the request is in flight: wait for the answer
    page.wait_for_function(
        "(s => s.length > 0 && !s.endsWith('…'))"
        "(document.getElementById('subscribe-status').textContent)",
        timeout=30_000,
    )
    status = page.inner_text("#subscribe-status")
    page.screenshot(path=str(SHOTS / "myblog-subscribed.png"), full_page=True)
    assert "success+browser@simulator.amazonses.com" in status or "subscribed" in status.lower()
    mail = served.wait_for(r"^email to success\+browser@simulator\.amazonses\.com: (.*)$", 60)
    assert mail[1] == "Welcome to MyBlog, Grace!"


def test_an_uploaded_photo_gets_its_thumbnail_on_the_page(site, page):
    page.goto(site + "/")
    page.set_input_files("#photo-file", str(PHOTO))
    page.click("#photo-form button")
    page.wait_for_selector("#photo-result:not([hidden])", timeout=90_000)
    width = page.evaluate(
        "() => { const i = document.getElementById('photo-thumbnail');"
        " return i.complete ? i.naturalWidth : 0; }"
    )
    assert 0 < width <= 256
    assert page.get_attribute("#photo-thumbnail", "src").startswith("/thumbnails/")
    page.screenshot(path=str(SHOTS / "myblog-thumbnail.png"), full_page=True)
