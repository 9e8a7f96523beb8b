"""MyBlog's static site: plain files that work offline, accessible markup, and JavaScript that
renders the API's text as text.

The pages run in headless Chromium against a stub of the shared CloudFront domain (the site's
files, `/api/*` answers in the API function's shapes, a presigned-URL stand-in and
`/thumbnails/*`), so the browser's own behaviour is tested: fetch, rendering, forms, polling.
The real API, gateway and edge are tested elsewhere.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import shutil
import subprocess
import threading
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image

from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.myblog.support import SITE

PAGES = ["index.html", "post.html", "404.html"]
HOSTILE = "<img src=x onerror=\"document.title='pwned'\">Bobby & <b>friends</b>"


class _Page(HTMLParser):
    """Tags, their attributes and the text of one HTML file."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def all(self, tag):
        return [attrs for t, attrs in self.tags if t == tag]


def _page(name):
    return _Page((SITE / name).read_text())


# ---- the files ----------------------------------------------------------------------------------
def test_the_site_is_the_files_it_needs():
    names = {p.name for p in SITE.iterdir()}
    assert {"index.html", "post.html", "404.html", "style.css", "app.js", "posts.json"} <= names


@pytest.mark.parametrize("name", ["index.html", "post.html", "404.html", "style.css", "app.js"])
def test_nothing_is_loaded_from_another_host(name):
    """No CDN, no web fonts, no analytics: every URL is on the site's own domain."""
    text = (SITE / name).read_text()
    assert not re.findall(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", text, re.I)
    assert not re.findall(r"@import|url\(\s*['\"]?(?:https?:)?//", text, re.I)
    assert not re.findall(r"https?://", text.replace("http://127.0.0.1", ""))


@pytest.mark.parametrize("name", PAGES)
def test_pages_are_accessible_html(name):
    page = _page(name)
    [html_tag] = page.all("html")
    assert html_tag.get("lang") == "en"
    assert any(m.get("name") == "viewport" for m in page.all("meta"))
    assert page.all("main") and page.all("h1")
    ids = {attrs["id"] for _, attrs in page.tags if attrs.get("id")}
    for field in page.all("input"):
        assert field["id"] in {label.get("for") for label in page.all("label")}, field
    for link in page.all("a"):
        if link.get("href", "").startswith("#"):
            assert link["href"][1:] in ids, link
    for image in page.all("img"):
        assert "alt" in image, image
    # served for any missing path (/a/b/c): its links must not be relative to that path
    for tag in page.all("link") + page.all("script"):
        assert (tag.get("href") or tag.get("src")).startswith("/"), tag


def test_app_js_never_parses_api_text_as_html():
    script = (SITE / "app.js").read_text()
    code = "\n".join(line.split("//", 1)[0] for line in script.splitlines())
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(", code)
    assert "/api/posts" in script.replace("${API}", "/api")
    assert "/api/subscribers" in script.replace("${API}", "/api")
    assert "/api/photos" in script.replace("${API}", "/api")
    assert "/thumbnails/" in script


@pytest.mark.skipif(not shutil.which("node"), reason="node is not installed")
def test_app_js_is_valid_javascript():
    subprocess.run(["node", "--check", str(SITE / "app.js")], check=True, timeout=30)


def test_seed_posts_pass_the_apis_own_rules():
    """3-5 believable posts, each a complete item the posts table and the API accept."""
    posts = json.loads((SITE / "posts.json").read_text())
    assert 3 <= len(posts) <= 5
    assert len({p["id"] for p in posts}) == len(posts)
    for post in posts:
        assert set(post) == {
            "id",
            "kind",
            "title",
            "author",
            "published_at",
            "summary",
            "body",
            "tags",
        }
        assert post["kind"] == "post"
        assert re.fullmatch(r"[a-z0-9-]+", post["id"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", post["published_at"])
        assert 0 < len(post["title"]) <= 200 and 0 < len(post["body"]) <= 20_000
        assert 0 < len(post["summary"]) <= 300 and 0 < len(post["author"]) <= 100
        assert 1 <= len(post["tags"]) <= 10 and all(1 <= len(t) <= 30 for t in post["tags"])
        assert "\n\n" in post["body"]  # paragraphs


# ---- the pages in a browser ---------------------------------------------------------------------
class _Stub(BaseHTTPRequestHandler):
    """The CloudFront domain as the site sees it, answering as the API function does."""

    protocol_version = "HTTP/1.1"
    posts = json.loads((SITE / "posts.json").read_text())

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._route()

    def do_HEAD(self):
        self._route()

    def do_POST(self):
        self._route()

    def do_PUT(self):
        self._route()

    def _route(self):
        server = self.server
        path = unquote(urlsplit(self.path).path)
        size = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(size) if size else b""
        server.requests.append((self.command, path, self.headers.get("Content-Type"), body))
        if path in server.pages:  # a test's own page
            return self._send(200, server.pages[path], "text/html")
        if path == "/api/posts":
            hostile = dict(self.posts[0], id="a b/c?d", title=HOSTILE, author=HOSTILE)
            listed = [hostile, *self.posts]
            return self._json(200, {"posts": [{k: p[k] for k in p if k != "body"} for p in listed]})
        if path.startswith("/api/posts/"):
            wanted = path.removeprefix("/api/posts/")
            found = [p for p in self.posts if p["id"] == wanted]
            if wanted == "hostile":
                found = [dict(self.posts[0], title=HOSTILE, body=f"one\n\n{HOSTILE}")]
            if not found:
                return self._json(404, {"message": f"post {wanted!r} not found"})
            return self._json(200, found[0])
        if path == "/api/subscribers" and self.command == "POST":
            email = json.loads(body)["email"].lower()
            if email in server.subscribers:
                return self._json(409, {"message": f"{email} is already subscribed"})
            server.subscribers.add(email)
            return self._json(201, {"email": email, "subscribed": True})
        if path == "/api/photos" and self.command == "POST":
            ticket = {
                "upload_url": "/presigned/uploads/1234.png?X-Amz-Expires=300",
                "method": "PUT",
                "headers": {"Content-Type": "image/png"},
                "key": "uploads/1234.png",
                "name": "1234.png",
                "expires_in": 300,
            }
            return self._json(200, ticket)
        if path == "/presigned/uploads/1234.png" and self.command == "PUT":
            server.uploaded = (self.headers.get("Content-Type"), body)
            return self._send(200, b"", "text/plain")
        if path == "/thumbnails/1234.png":
            server.polls += 1
            if server.uploaded and server.polls >= 3:  # made on the third look
                return self._send(200, server.uploaded[1], "image/png")
            return self._send(403, b"<Error><Code>AccessDenied</Code></Error>", "text/xml")
        file = SITE / path.lstrip("/")
        if path == "/":
            file = SITE / "index.html"
        if file.is_file() and file.parent == SITE:
            kind = {".html": "text/html", ".css": "text/css", ".js": "text/javascript"}
            return self._send(200, file.read_bytes(), kind.get(file.suffix, "application/json"))
        return self._send(404, (SITE / "404.html").read_bytes(), "text/html")

    def _json(self, status, body):
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status, data, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":  # a HEAD answer has the headers only
            self.wfile.write(data)


# a harness page: the real index.html, plus a script that fills and submits the forms the way a
# reader would (a file chosen in the picker is a File object)
_DRIVER = """<script>
document.addEventListener("DOMContentLoaded", () => setTimeout(async () => {
  const sub = document.getElementById("subscribe-form");
  sub.elements.email.value = "Ada@Example.com";
  sub.requestSubmit();
  await new Promise((r) => setTimeout(r, 500));
  document.body.dataset.firstSubscribe = document.getElementById("subscribe-status").textContent;
  sub.elements.email.value = "ada@example.com";
  sub.requestSubmit();
  const photo = document.getElementById("photo-form");
  const bytes = Uint8Array.from(atob("%s"), (c) => c.charCodeAt(0));
  const files = new DataTransfer();
  files.items.add(new File([bytes], "my cat.png", { type: "image/png" }));
  photo.elements.photo.files = files.files;
  photo.requestSubmit();
}, 50));
</script>"""


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    server.requests, server.subscribers, server.uploaded, server.polls = [], set(), None, 0
    server.pages = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _render(site, tmp_path, path):
    """The DOM after the page's scripts ran (Chromium's virtual time skips the waits)."""
    url = f"http://127.0.0.1:{site.server_address[1]}{path}"
    result = subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_ARGS,
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--virtual-time-budget=60000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _text(dom, element_id):
    """The text inside the element with this id (tags dropped, entities decoded)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', dom, re.S)
    assert match, f"no #{element_id} in the page"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(2))).strip()


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


@needs_chromium
def test_index_lists_the_posts_as_text(site, tmp_path):
    """GIVEN /api/posts with a title and author that contain HTML WHEN the index renders THEN
    they show as text (no element is created from them) and each post links to post.html."""
    dom = _render(site, tmp_path, "/")

    assert "<img src" not in dom  # the only img is the thumbnail's, empty until an upload
    assert "<title>MyBlog</title>" in dom  # the injected onerror never ran
    assert html.escape(HOSTILE, quote=False) in dom
    for post in _Stub.posts:
        assert f'href="/post.html?id={post["id"]}"' in dom
        assert html.escape(post["title"], quote=False) in dom
    assert 'href="/post.html?id=a%20b%2Fc%3Fd"' in dom  # ids are URL-encoded
    assert '<time datetime="2026-10-29T08:30:00Z">' in dom
    assert 'aria-busy="false"' in dom


@needs_chromium
def test_a_post_renders_its_paragraphs(site, tmp_path):
    post = _Stub.posts[1]

    dom = _render(site, tmp_path, f"/post.html?id={post['id']}")

    assert f"<title>{html.escape(post['title'], quote=False)} · MyBlog</title>" in dom
    assert _text(dom, "post-title") == post["title"]
    paragraphs = [p.strip() for p in post["body"].split("\n\n")]
    rendered = re.findall(r"<p>(.*?)</p>", dom.split('id="post-body"', 1)[1], re.S)
    assert [html.unescape(p) for p in rendered[: len(paragraphs)]] == paragraphs
    assert 'id="post" class="post" hidden' not in dom


@needs_chromium
def test_a_hostile_post_stays_text(site, tmp_path):
    dom = _render(site, tmp_path, "/post.html?id=hostile")

    assert _text(dom, "post-title") == HOSTILE
    assert html.escape(HOSTILE, quote=False) in dom
    assert "<b>friends</b>" not in dom


@needs_chromium
def test_a_missing_post_says_so(site, tmp_path):
    dom = _render(site, tmp_path, "/post.html?id=nope")

    assert _text(dom, "post-status") == "This post does not exist (or not any more)."


@needs_chromium
def test_the_forms_subscribe_and_upload_a_photo_until_its_thumbnail_shows(site, tmp_path):
    """GIVEN the index with a reader's input WHEN they subscribe twice and upload a photo THEN
    201 then 409 are told apart; the photo is PUT to the signed URL with the signed
    Content-Type, and /thumbnails/<name> is polled until it exists, then shown."""
    png = _tiny_png()
    harness = (SITE / "index.html").read_text()
    driver = _DRIVER % base64.b64encode(png).decode()
    site.pages["/harness.html"] = harness.replace("</body>", driver + "</body>").encode()

    dom = _render(site, tmp_path, "/harness.html")

    assert "A welcome email is on its way to ada@example.com." in dom
    assert _text(dom, "subscribe-status") == "This address is already subscribed."
    photo_calls = [(m, p, t) for m, p, t, _ in site.requests if "photo" in p or "1234" in p]
    assert photo_calls[0] == ("POST", "/api/photos", "application/json")
    assert ("PUT", "/presigned/uploads/1234.png", "image/png") in photo_calls
    assert site.uploaded == ("image/png", png)
    assert site.polls >= 3
    assert _text(dom, "photo-status") == "Your thumbnail is ready."
    assert 'src="/thumbnails/1234.png"' in dom
    assert 'alt="Thumbnail of my cat.png"' in dom
    assert 'id="photo-result" class="thumbnail" hidden' not in dom


def _tiny_png():
    out = io.BytesIO()
    Image.new("RGBA", (4, 3), (11, 92, 173, 128)).save(out, "PNG")
    return out.getvalue()
