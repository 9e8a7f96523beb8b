// MyBlog: renders posts from the API and runs the subscribe and photo forms.
// The site and the API share one CloudFront domain: /api/* goes to API Gateway (stage "api"),
// everything else to the private S3 bucket. Text from the API is only ever set as textContent,
// never parsed as HTML.
"use strict";

const API = "/api";
const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
const THUMBNAIL_TRIES = 20; // about a minute with the back-off below

// ---- small DOM helpers -------------------------------------------------------------------------
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) {
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function setStatus(node, text, kind = "") {
  node.textContent = text;
  node.dataset.kind = kind; // styles "error" and "ok"
}

function formatDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" });
}

function tagList(tags) {
  const list = el("ul", { class: "tags", "aria-label": "Tags" });
  for (const tag of tags || []) list.append(el("li", {}, String(tag)));
  return list;
}

async function requestJSON(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { Accept: "application/json", ...(options.headers || {}) },
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null; // an error page from CloudFront or API Gateway is not always JSON
  }
  return { status: response.status, ok: response.ok, body };
}

function postJSON(path, data) {
  return requestJSON(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(data),
  });
}

function messageOf(result, fallback) {
  return (result.body && typeof result.body.message === "string" && result.body.message) || fallback;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the list of posts -------------------------------------------------------------------------
async function showPosts() {
  const list = document.getElementById("posts");
  const status = document.getElementById("posts-status");
  try {
    const result = await requestJSON(`${API}/posts`);
    if (!result.ok || !result.body || !Array.isArray(result.body.posts)) {
      setStatus(status, messageOf(result, "The posts could not be loaded. Try again later."), "error");
      return;
    }
    const posts = result.body.posts;
    for (const post of posts) {
      const link = el("a", { href: `/post.html?id=${encodeURIComponent(post.id)}` }, String(post.title));
      list.append(
        el(
          "li",
          {},
          el(
            "article",
            { class: "post-card" },
            el("h2", {}, link),
            el("p", { class: "meta" }, `By ${post.author} · `, el("time", { datetime: post.published_at }, formatDate(post.published_at))),
            el("p", {}, String(post.summary || "")),
            tagList(post.tags),
          ),
        ),
      );
    }
    setStatus(status, posts.length ? "" : "No posts yet.");
    status.hidden = posts.length > 0;
  } catch (error) {
    setStatus(status, "The posts could not be loaded: the network is unreachable.", "error");
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

// ---- one post ----------------------------------------------------------------------------------
async function showPost() {
  const status = document.getElementById("post-status");
  const id = new URLSearchParams(window.location.search).get("id");
  if (!id) {
    setStatus(status, "No post was chosen. Pick one from the list of posts.", "error");
    return;
  }
  try {
    const result = await requestJSON(`${API}/posts/${encodeURIComponent(id)}`);
    if (result.status === 404) {
      setStatus(status, "This post does not exist (or not any more).", "error");
      return;
    }
    if (!result.ok || !result.body) {
      setStatus(status, messageOf(result, "The post could not be loaded. Try again later."), "error");
      return;
    }
    const post = result.body;
    document.title = `${post.title} · MyBlog`;
    document.getElementById("post-title").textContent = post.title;
    document.getElementById("post-author").textContent = post.author;
    const date = document.getElementById("post-date");
    date.dateTime = post.published_at;
    date.textContent = formatDate(post.published_at);
    document.getElementById("post-tags").replaceWith(tagList(post.tags));
    const body = document.getElementById("post-body");
    // the body is plain text: blank lines separate paragraphs
    for (const paragraph of String(post.body || "").split(/\n\s*\n/)) {
      if (paragraph.trim()) body.append(el("p", {}, paragraph.trim()));
    }
    document.getElementById("post").hidden = false;
    status.hidden = true;
  } catch (error) {
    setStatus(status, "The post could not be loaded: the network is unreachable.", "error");
  }
}

// ---- subscribe ---------------------------------------------------------------------------------
function setUpSubscribe() {
  const form = document.getElementById("subscribe-form");
  const status = document.getElementById("subscribe-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = form.elements.email.value.trim();
    const name = form.elements.name.value.trim();
    if (!form.elements.email.checkValidity() || !email) {
      setStatus(status, "Enter an email address, e.g. ada@example.com.", "error");
      form.elements.email.focus();
      return;
    }
    const button = form.querySelector("button");
    button.disabled = true;
    setStatus(status, "Subscribing…");
    try {
      const result = await postJSON(`${API}/subscribers`, name ? { email, name } : { email });
      if (result.status === 201) {
        setStatus(status, `Thank you! A welcome email is on its way to ${result.body.email}.`, "ok");
        form.reset();
      } else if (result.status === 409) {
        setStatus(status, "This address is already subscribed.", "ok");
      } else {
        setStatus(status, messageOf(result, "That did not work. Try again later."), "error");
      }
    } catch (error) {
      setStatus(status, "That did not work: the network is unreachable.", "error");
    } finally {
      button.disabled = false;
    }
  });
}

// ---- photo upload ------------------------------------------------------------------------------
function setUpPhotoUpload() {
  const form = document.getElementById("photo-form");
  const status = document.getElementById("photo-status");
  const figure = document.getElementById("photo-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.elements.photo.files[0];
    if (!file) {
      setStatus(status, "Choose a photo first.", "error");
      return;
    }
    if (file.size > MAX_UPLOAD_BYTES) {
      setStatus(status, "This photo is larger than 10 MB: choose a smaller one.", "error");
      return;
    }
    const button = form.querySelector("button");
    button.disabled = true;
    figure.hidden = true;
    try {
      // 1. the API signs an upload URL for this file's type
      setStatus(status, "Preparing the upload…");
      const ticket = await postJSON(`${API}/photos`, { filename: file.name });
      if (!ticket.ok) {
        setStatus(status, messageOf(ticket, "The upload could not be prepared."), "error");
        return;
      }
      // 2. the browser sends the file straight to S3, with the signed Content-Type
      setStatus(status, "Uploading…");
      const put = await fetch(ticket.body.upload_url, {
        method: ticket.body.method,
        headers: ticket.body.headers,
        body: file,
      });
      if (!put.ok) {
        setStatus(status, `The upload failed (HTTP ${put.status}). Try again.`, "error");
        return;
      }
      // 3. S3 → SNS → SQS → Lambda makes the thumbnail: wait until it is there
      setStatus(status, "Uploaded. Making the thumbnail…");
      const url = await waitForThumbnail(ticket.body.name);
      if (!url) {
        setStatus(status, "The thumbnail is not ready yet. Reload the page in a minute.", "error");
        return;
      }
      const image = document.getElementById("photo-thumbnail");
      image.src = url;
      image.alt = `Thumbnail of ${file.name}`;
      document.getElementById("photo-caption").textContent = file.name;
      figure.hidden = false;
      setStatus(status, "Your thumbnail is ready.", "ok");
      form.reset();
    } catch (error) {
      setStatus(status, "The upload failed: the network is unreachable.", "error");
    } finally {
      button.disabled = false;
    }
  });
}

async function waitForThumbnail(name) {
  const url = `/thumbnails/${encodeURIComponent(name)}`;
  let delay = 1000;
  for (let attempt = 0; attempt < THUMBNAIL_TRIES; attempt += 1) {
    // HEAD is enough to know it exists; no-store so an early 403/404 is not reused by the browser
    const response = await fetch(url, { method: "HEAD", cache: "no-store" });
    if (response.ok) return url;
    await sleep(delay);
    delay = Math.min(delay * 1.5, 5000);
  }
  return null;
}

// ---- start -------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page === "index") {
    showPosts();
    setUpSubscribe();
    setUpPhotoUpload();
  } else if (page === "post") {
    showPost();
  }
});
