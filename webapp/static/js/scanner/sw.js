/* Профмаршрут scanner service worker (served at /scanner-sw.js, scope "/").
 * Caches ONLY the scanner: its pages (/checkin/<id>, /s/<token>) network-first and its own static
 * files. Everything else passes through untouched. On logout it wipes the organizers' offline
 * ticket data; when a link page answers "expired/revoked/unknown" it wipes that link's data. */
/* global ScannerStore */
"use strict";
importScripts("static/js/scanner/store.js");

var PAGES = "profroute-scanner-pages";
var ASSETS_PREFIX = "profroute-scanner-assets-";
var META = "profroute-scanner-meta";
var PAGE_TIMEOUT_MS = 3500;

function isScannerPage(url) {
  return /^\/checkin\/\d+\/?$/.test(url.pathname) || /^\/s\/[^/]+\/?$/.test(url.pathname);
}

function isScannerAsset(url) {
  var p = url.pathname;
  return p.indexOf("/static/js/scanner/") === 0 || p.indexOf("/static/vendor/jsqr-") === 0 ||
    p === "/static/css/scanner.css" || p.indexOf("/static/img/scanner/") === 0 ||
    /^\/(checkin\/\d+|s\/[^/]+)\/manifest\.webmanifest$/.test(p);
}

self.addEventListener("install", function (event) {
  event.waitUntil((async function () {
    var response = await fetch("scanner-assets.json", { cache: "no-store" });
    var list = await response.json();
    var cache = await caches.open(ASSETS_PREFIX + list.version);
    await cache.addAll(list.assets.map(function (u) { return new Request(u, { cache: "no-store" }); }));
    var meta = await caches.open(META);
    await meta.put("version", new Response(list.version));
    await refreshSavedPages();
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", function (event) {
  event.waitUntil((async function () {
    var meta = await caches.open(META);
    var stored = await meta.match("version");
    var version = stored ? await stored.text() : null;
    var names = await caches.keys();
    await Promise.all(names.filter(function (n) {
      return n.indexOf(ASSETS_PREFIX) === 0 && n !== ASSETS_PREFIX + version;
    }).map(function (n) { return caches.delete(n); }));
    await self.clients.claim();
  })());
});

/* A new version of the scanner: saved pages are fetched again so each page matches its scripts
 * (a page the server no longer gives — logged out, link revoked — is forgotten). */
async function refreshSavedPages() {
  var cache = await caches.open(PAGES);
  var keys = await cache.keys();
  await Promise.all(keys.map(async function (request) {
    try {
      var response = await fetch(request.url, { credentials: "same-origin", redirect: "manual", cache: "no-store" });
      if (response.status === 200 && response.type === "basic") { await cache.put(request, response); }
      else { await forgetPage(new URL(request.url)); }
    } catch (err) { /* offline during the update: keep the saved page */ }
  }));
}

async function linkScope(pathname) {
  var token = decodeURIComponent(pathname.replace(/^\/s\//, "").replace(/\/$/, ""));
  var digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  var hex = Array.prototype.map.call(new Uint8Array(digest), function (b) {
    return ("0" + b.toString(16)).slice(-2);
  }).join("");
  return "link-" + hex.slice(0, 16);
}

async function forgetPage(url) {
  var cache = await caches.open(PAGES);
  await cache.delete(url.pathname);
  if (url.pathname.indexOf("/s/") === 0) {
    await ScannerStore.wipe(await linkScope(url.pathname), false);
  } else {
    await ScannerStore.wipe("checkin-" + url.pathname.split("/")[2], false);
  }
}

async function scannerPage(event, url) {
  var cache = await caches.open(PAGES);
  var network = fetch(event.request).then(async function (response) {
    if (response.status === 200 && response.type === "basic") {
      await cache.put(url.pathname, response.clone());
    } else if (response.type === "opaqueredirect" || [401, 403, 404, 410].indexOf(response.status) >= 0) {
      // Logged out (redirect to the login page) or the link is no longer valid.
      await forgetPage(url);
    }
    return response;
  });
  event.waitUntil(network.catch(function () { return null; }));
  var timeout = new Promise(function (resolve) { setTimeout(function () { resolve(null); }, PAGE_TIMEOUT_MS); });
  try {
    var first = await Promise.race([network, timeout]);
    // A 5xx (the server down behind its proxy, a venue's broken uplink) is no page to scan with.
    if (first && first.status < 500) { return first; }
  } catch (err) { /* offline: fall back to the saved page */ }
  var saved = await cache.match(url.pathname);
  if (saved) { return saved; }
  try { return await network; } catch (err) {
    return new Response(
      "<!doctype html><html lang=\"ru\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">" +
      "<title>Нет связи</title><body style=\"font:18px system-ui;padding:1.5rem\"><h1>Нет связи</h1>" +
      "<p>Этот сканер ещё не сохранён на телефоне: откройте его один раз при связи, и дальше он будет открываться без сети.</p></body></html>",
      { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
  }
}

async function scannerAsset(event) {
  var cached = await caches.match(event.request) || await caches.match(event.request, { ignoreSearch: true });
  var refresh = fetch(event.request).then(async function (response) {
    if (response.ok && response.type === "basic") {
      var names = await caches.keys();
      var current = names.filter(function (n) { return n.indexOf(ASSETS_PREFIX) === 0; }).pop();
      if (current) { (await caches.open(current)).put(event.request, response.clone()); }
    }
    return response;
  });
  if (cached) {
    event.waitUntil(refresh.catch(function () { return null; }));
    return cached;
  }
  return refresh;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method === "POST" && url.pathname === "/logout") {
    // The organizer logs out: the tickets downloaded for offline check-in leave the phone.
    event.waitUntil((async function () {
      await ScannerStore.wipeSessionScopes();
      var cache = await caches.open(PAGES);
      var keys = await cache.keys();
      await Promise.all(keys.filter(function (r) {
        return new URL(r.url).pathname.indexOf("/checkin/") === 0;
      }).map(function (r) { return cache.delete(r); }));
    })());
    return;
  }
  if (request.method !== "GET") { return; }
  if (request.mode === "navigate" && isScannerPage(url)) {
    event.respondWith(scannerPage(event, url));
  } else if (isScannerAsset(url)) {
    event.respondWith(scannerAsset(event));
  }
});
