// Paid content: sign in with Amazon Cognito, list the videos, play one through a signed URL.
// The page, the API and the videos share one CloudFront domain: /api/* goes to API Gateway (stage
// "api"), whose Cognito authorizer wants the ID token, bare, in the Authorization header;
// /videos/* is served only with a CloudFront signature, which the API's signer makes for premium
// members; everything else (this page, /config.json, /public/trailer.webp) comes from the bucket.
// Text from the API and from Cognito is only ever set as textContent, never parsed as HTML.
"use strict";

const API = "/api";
const SESSION_KEY = "paid-content.session";

let config = null; // {region, userPoolId, clientId, cognitoEndpoint}, from /config.json
let session = null; // {idToken, accessToken, refreshToken}, in sessionStorage for this tab only

// ---- small DOM helpers -------------------------------------------------------------------------
const $ = (id) => document.getElementById(id);

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

function messageOf(result, fallback) {
  return (result.body && typeof result.body.message === "string" && result.body.message) || fallback;
}

// ---- Amazon Cognito's user-pool API ------------------------------------------------------------
function cognitoEndpoint() {
  // On AWS the page is served from *.cloudfront.net and calls Cognito itself, which allows
  // cross-origin calls. Offline (`labbook serve`) the page is at the lab's own address on
  // 127.0.0.1, and cognito-idp.amazonaws.com is out of reach (and is not the lab): the lab's
  // front answers the same API, the same requests, at /_aws/cognito-idp/ on this origin.
  if (window.location.hostname.endsWith(".cloudfront.net")) return config.cognitoEndpoint;
  return `${window.location.origin}/_aws/cognito-idp/`;
}

class CognitoError extends Error {
  constructor(type, message) {
    super(message);
    this.type = type;
  }
}

// one call of the API, as the AWS SDKs make it: a POST naming the operation in X-Amz-Target
async function cognito(operation, params) {
  const response = await fetch(cognitoEndpoint(), {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${operation}`,
    },
    body: JSON.stringify(params),
  });
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  if (!response.ok) {
    const type = String(body.__type || "").split("#").pop() || `HTTP ${response.status}`;
    throw new CognitoError(type, body.message || body.Message || type);
  }
  return body;
}

async function signIn(email, password) {
  const answer = await cognito("InitiateAuth", {
    ClientId: config.clientId,
    AuthFlow: "USER_PASSWORD_AUTH",
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  if (!answer.AuthenticationResult) {
    // e.g. NEW_PASSWORD_REQUIRED for a user an administrator created with a temporary password
    throw new CognitoError(
      answer.ChallengeName,
      `Cognito asks for ${answer.ChallengeName}: this page signs in with a password only.`,
    );
  }
  const tokens = answer.AuthenticationResult;
  saveSession({
    idToken: tokens.IdToken,
    accessToken: tokens.AccessToken,
    refreshToken: tokens.RefreshToken,
  });
}

// The ID token lives five minutes; the refresh token gets a new one. The page refreshes when the
// API says 401 rather than by reading the token's `exp`: this computer's clock is not the
// server's (offline, the lab clock runs ahead by whatever the notebook skipped).
async function refreshTokens() {
  if (!session || !session.refreshToken) return false;
  try {
    const answer = await cognito("InitiateAuth", {
      ClientId: config.clientId,
      AuthFlow: "REFRESH_TOKEN_AUTH",
      AuthParameters: { REFRESH_TOKEN: session.refreshToken },
    });
    const tokens = answer.AuthenticationResult;
    saveSession({ ...session, idToken: tokens.IdToken, accessToken: tokens.AccessToken });
    return true;
  } catch {
    return false;
  }
}

function saveSession(value) {
  session = value;
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
}

function loadSession() {
  try {
    session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  } catch {
    session = null;
  }
}

async function signOut() {
  const accessToken = session && session.accessToken;
  session = null;
  sessionStorage.removeItem(SESSION_KEY);
  showSignedOut();
  if (accessToken) {
    // revokes the refresh token everywhere; the page has forgotten the tokens either way
    cognito("GlobalSignOut", { AccessToken: accessToken }).catch(() => {});
  }
}

// ---- the API, with the ID token ----------------------------------------------------------------
async function callApi(path) {
  const response = await fetch(`${API}${path}`, {
    headers: { Accept: "application/json", Authorization: session.idToken },
    cache: "no-store",
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null; // an error page from CloudFront is not JSON
  }
  return { status: response.status, ok: response.ok, body };
}

async function api(path) {
  let result = await callApi(path);
  if (result.status === 401 && (await refreshTokens())) result = await callApi(path);
  if (result.status === 401) {
    await signOut();
    setStatus($("sign-in-status"), "Your session has ended: sign in again.", "error");
  }
  return result;
}

// ---- signed out --------------------------------------------------------------------------------
function showSignedOut() {
  $("signed-in").hidden = true;
  $("account").hidden = true;
  $("signed-out").hidden = false;
  $("videos").replaceChildren();
  resetPlayer();
}

function setUpSignIn() {
  const form = $("sign-in-form");
  const status = $("sign-in-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    if (!email || !password) {
      setStatus(status, "Enter your email address and your password.", "error");
      return;
    }
    const button = form.querySelector("button");
    button.disabled = true;
    setStatus(status, "Signing in…");
    try {
      await signIn(email, password);
      form.reset();
      setStatus(status, "");
      await showSignedIn();
    } catch (error) {
      // Cognito's own words, e.g. "Incorrect username or password."
      const text = error instanceof CognitoError ? error.message : "Cognito is unreachable.";
      setStatus(status, text, "error");
      form.elements.password.value = "";
    } finally {
      button.disabled = false;
    }
  });
  $("sign-out").addEventListener("click", signOut);
}

// ---- signed in ---------------------------------------------------------------------------------
async function showSignedIn() {
  $("signed-out").hidden = true;
  $("signed-in").hidden = false;
  resetPlayer();
  await Promise.all([showAccount(), showVideos()]);
}

async function showAccount() {
  const result = await api("/me");
  if (!session) return;
  const badge = $("account-badge");
  const note = $("premium-note");
  if (!result.ok || !result.body) {
    $("account-email").textContent = "";
    setStatus(note, messageOf(result, "Your membership could not be checked."), "error");
    return;
  }
  const { email, premium } = result.body;
  $("account-email").textContent = email;
  badge.textContent = premium ? "Premium" : "Not premium";
  badge.dataset.premium = String(premium === true);
  note.textContent = premium
    ? "Premium member: press Play on any video."
    : "The catalogue is open to everyone signed in; the videos are for premium members.";
  $("account").hidden = false;
}

function titleOf(video) {
  const series = video.series.replace(/-/g, " ");
  const episode = video.id.slice(video.series.length + 1);
  return `${series.charAt(0).toUpperCase()}${series.slice(1)} · episode ${Number(episode)}`;
}

async function showVideos() {
  const list = $("videos");
  const status = $("videos-status");
  list.setAttribute("aria-busy", "true");
  setStatus(status, "Loading the catalogue…");
  status.hidden = false;
  try {
    const result = await api("/videos");
    if (!session) return;
    if (!result.ok || !result.body || !Array.isArray(result.body.videos)) {
      setStatus(status, messageOf(result, "The catalogue could not be loaded."), "error");
      return;
    }
    const videos = result.body.videos;
    list.replaceChildren(
      ...videos.map((video) => {
        const play = el("button", { type: "button", "aria-label": `Play ${titleOf(video)}` }, "Play");
        play.addEventListener("click", () => playVideo(video, play));
        return el(
          "li",
          { "data-id": video.id },
          el(
            "div",
            {},
            el("h2", {}, titleOf(video)),
            el("p", { class: "meta" }, `${video.id} · ${Math.round(video.bytes / 1024)} KB`),
          ),
          play,
        );
      }),
    );
    setStatus(status, videos.length ? "" : "No videos yet.");
    status.hidden = videos.length > 0;
  } catch {
    setStatus(status, "The catalogue could not be loaded: the network is unreachable.", "error");
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

// ---- the player --------------------------------------------------------------------------------
function resetPlayer() {
  const image = $("player-video");
  image.hidden = true;
  image.removeAttribute("src");
  image.alt = "";
  $("player-caption").textContent = "Choose a video and press Play.";
  setStatus($("play-status"), "");
  for (const item of document.querySelectorAll("#videos li")) item.classList.remove("playing");
}

function loadImage(image, src) {
  return new Promise((resolve) => {
    image.onload = () => resolve(true);
    image.onerror = () => resolve(false);
    image.src = src;
  });
}

async function playVideo(video, button) {
  const status = $("play-status");
  const image = $("player-video");
  resetPlayer();
  button.closest("li").classList.add("playing");
  $("player-caption").textContent = titleOf(video);
  button.disabled = true;
  $("player").scrollIntoView({ block: "nearest" }); // below the list on a narrow screen
  setStatus(status, "Asking for a link…");
  try {
    const result = await api(`/videos/${encodeURIComponent(video.id)}/url`);
    if (!session) return;
    if (!result.ok || !result.body || !result.body.url) {
      // e.g. 403 "videos are for premium members: buy a membership first"
      setStatus(status, messageOf(result, `No link for this video (HTTP ${result.status}).`), "error");
      return;
    }
    // The signed URL names the distribution's domain, and this page is served by the same
    // distribution: its path and query, relative, reach the same edge on AWS and offline.
    const link = new URL(result.body.url);
    setStatus(status, "Loading…");
    if (await loadImage(image, link.pathname + link.search)) {
      image.alt = `${titleOf(video)}, playing`;
      image.hidden = false;
      setStatus(status, "Playing. The link expires in a few minutes: Play asks for a new one.", "ok");
    } else {
      setStatus(status, "CloudFront refused the link: it may have expired. Press Play again.", "error");
    }
  } catch {
    setStatus(status, "No link: the network is unreachable.", "error");
  } finally {
    button.disabled = false;
  }
}

// ---- start -------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", async () => {
  setUpSignIn();
  try {
    const response = await fetch("/config.json", { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    config = await response.json();
  } catch (error) {
    const status = $("config-status");
    setStatus(status, `The site's /config.json could not be read (${error.message}).`, "error");
    status.hidden = false;
    $("sign-in-form").querySelector("button").disabled = true;
    return;
  }
  loadSession();
  if (session) await showSignedIn();
});
