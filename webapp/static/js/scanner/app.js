/* Профмаршрут scanner page: camera and typed codes in, one big answer out; online through the
 * check-in API, offline from IndexedDB with a queue synced to /scans/batch. Decisions and the look
 * of answers come from decide.js (the same module online and offline). */
(function () {
  "use strict";

  var D = window.ScannerDecide;
  var S = window.ScannerStore;
  var cfg = JSON.parse(document.getElementById("scanner-config").textContent);
  var scope = cfg.scopeKey;

  var ONLINE_TIMEOUT_MS = 3000;      // slower than this → judge locally and queue
  var REFRESH_EVERY_MS = 3 * 60 * 1000;
  var SAME_CODE_IGNORE_MS = 4000;
  var BATCH_SIZE = 200;
  var BACKOFF_MIN_MS = 2000;
  var BACKOFF_MAX_MS = 60000;

  var state = {
    online: true,
    stopped: false,
    index: null,
    local: new Map(),
    queueCount: 0,
    dataAt: null,
    deviceLabel: null,
    seenCodes: new Map(),
    lastCheckin: null,
    syncing: null,
    backoff: BACKOFF_MIN_MS,
    retryTimer: null,
    refreshTimer: null,
    seq: 0,
    recent: [],
    audio: null,
    answerTimer: null,
    forceCode: null
  };

  var $ = function (id) { return document.getElementById(id); };

  /* ------------------------------------------------------------------ network */

  function OfflineError(message) { this.name = "OfflineError"; this.message = message || "offline"; }
  function ApiFailure(status, body) {
    this.name = "ApiFailure";
    this.status = status;
    this.body = body || {};
    var err = this.body.error || {};
    this.code = err.code || "error";
    this.message = err.message || "Сервер ответил ошибкой " + status + ".";
    this.fields = err.fields || {};
  }

  function headers(withBody) {
    var h = { "Accept": "application/json" };
    if (withBody) { h["Content-Type"] = "application/json"; }
    if (cfg.mode === "link") { h["Authorization"] = "Bearer " + cfg.linkToken; }
    else { h["X-CSRFToken"] = cfg.csrfToken; }
    return h;
  }

  async function api(method, path, body, timeoutMs) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, timeoutMs || ONLINE_TIMEOUT_MS);
    var response;
    try {
      response = await fetch(cfg.apiBase + path, {
        method: method,
        headers: headers(body !== undefined),
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store",
        redirect: "error",
        signal: controller.signal
      });
    } catch (err) {
      throw new OfflineError(err && err.name === "AbortError" ? "timeout" : "network");
    } finally {
      clearTimeout(timer);
    }
    if (response.status >= 500) { throw new OfflineError("server " + response.status); }
    var data = null;
    try { data = await response.json(); } catch (err) { data = null; }
    if (!response.ok) {
      var failure = new ApiFailure(response.status, data);
      if (response.status === 401) { authLost(failure); }
      throw failure;
    }
    return data;
  }

  async function sha16(text) {
    var bytes = new TextEncoder().encode(text);
    var digest = await crypto.subtle.digest("SHA-256", bytes);
    var hex = Array.prototype.map.call(new Uint8Array(digest), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
    return hex.slice(0, 16);
  }

  function newScanId() {
    if (crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  /* ------------------------------------------------------------- online state */

  function setOnline(online) {
    if (state.online === online) { renderNet(); return; }
    state.online = online;
    if (online) {
      state.backoff = BACKOFF_MIN_MS;
      clearTimeout(state.retryTimer);
      scheduleRefresh(REFRESH_EVERY_MS);
    } else {
      scheduleRetry();
    }
    renderNet();
  }

  function scheduleRetry() {
    clearTimeout(state.retryTimer);
    if (state.stopped) { return; }
    var wait = state.backoff;
    state.backoff = Math.min(BACKOFF_MAX_MS, state.backoff * 2);
    state.retryTimer = setTimeout(reconnect, wait);
  }

  /* Try to reach the server again: send what is queued, then fetch fresh data. */
  async function reconnect() {
    if (state.stopped) { return; }
    try {
      await syncQueue();
      await refreshData();
      setOnline(true);
    } catch (err) {
      if (err instanceof OfflineError) {
        if (state.online) { setOnline(false); } else { scheduleRetry(); }
      }
      else if (!(err instanceof ApiFailure && err.status === 401)) { scheduleRetry(); }
    }
  }

  function scheduleRefresh(wait) {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(async function () {
      if (state.stopped) { return; }
      if (state.online) {
        try { await syncQueue(); await refreshData(); }
        catch (err) { if (err instanceof OfflineError) { setOnline(false); } }
      }
      scheduleRefresh(REFRESH_EVERY_MS);
    }, wait);
  }

  async function refreshData() {
    var payload;
    try { payload = await api("GET", "/scanner-data", undefined, 30000); }
    catch (err) {
      /* Check-in has closed: a link gets no more lists; scans still queued are sent anyway. */
      if (err instanceof ApiFailure && err.code === "checkin_closed") {
        $("banner").textContent = err.message;
        $("banner").hidden = false;
        return null;
      }
      throw err;
    }
    var record = {
      scope: scope, eventId: cfg.eventId, payload: payload,
      fetchedAt: new Date().toISOString(), validUntil: payload.valid_until || cfg.validUntil || null
    };
    await S.putData(record);
    if (payload.generated_at) { await S.pruneLocal(scope, payload.generated_at); }
    state.local = await S.localCheckins(scope);
    useData(record);
    return record;
  }

  function useData(record) {
    state.index = D.buildIndex(record.payload);
    state.dataAt = record.payload.generated_at || record.fetchedAt;
    fillSchools();
    renderNet();
    checkExpiry();
  }

  function checkExpiry() {
    if (state.stopped) { return true; }
    var until = (state.index && state.index.validUntil) || cfg.validUntil;
    if (until && Date.now() >= Date.parse(until)) {
      stopScanner("Срок действия ссылки истёк",
        "Ссылка сканера больше не действует. Данные билетов удалены с телефона.", true);
      return true;
    }
    return false;
  }

  function authLost(failure) {
    if (cfg.mode === "link") {
      stopScanner("Ссылка сканера больше не действует",
        failure.message + " Данные билетов удалены с телефона.", true);
    } else {
      stopScanner("Вы вышли из системы",
        "Войдите снова, чтобы продолжить отметку. Данные билетов удалены с телефона.", true);
    }
  }

  async function stopScanner(title, message, wipe) {
    if (state.stopped) { return; }
    state.stopped = true;
    clearTimeout(state.retryTimer);
    clearTimeout(state.refreshTimer);
    if (camera) { camera.stop(); }
    var count = 0;
    try {
      if (wipe) { await S.wipe(scope, false); }
      count = await S.queueCount(scope);
    } catch (err) { count = 0; }
    state.index = null;
    if ("caches" in window) {
      try { var c = await caches.open("profroute-scanner-pages"); await c.delete(cfg.pageUrl); } catch (err) { /* ignore */ }
    }
    document.body.classList.add("is-stopped");
    var banner = $("banner");
    banner.textContent = title + ". " + message +
      (count ? " Не удалось отправить отметок: " + count + "." : "");
    if (cfg.mode === "session") {
      var link = document.createElement("a");
      link.href = "/login?next=" + encodeURIComponent(cfg.pageUrl);
      link.textContent = " Войти";
      banner.appendChild(link);
    }
    banner.hidden = false;
    banner.setAttribute("role", "alert");
    document.querySelectorAll("#code-form input, #code-form button, .sc-actions button, .sc-camera-tools button")
      .forEach(function (el) { el.disabled = true; });
  }

  /* ------------------------------------------------------------------ scans */

  function codeToSend(parsed) {
    if (parsed.type === "short") { return parsed.code; }
    if (parsed.type === "hash") { return "#" + parsed.hash; }
    return parsed.raw;
  }

  async function ticketHash(parsed) {
    if (parsed.type === "hash") { return parsed.hash; }
    var input = D.hashInput(parsed);
    return input ? sha16(input) : null;
  }

  /* A code held in front of the camera is read many times a second: it counts once, and again
   * only after it has been out of sight for a few seconds. */
  function onCameraCode(text) {
    if (state.stopped || document.querySelector("dialog[open]")) { return; }
    var now = Date.now();
    var seen = state.seenCodes;
    var last = seen.get(text);
    seen.set(text, now);
    if (seen.size > 200) {
      seen.forEach(function (at, code) { if (now - at > SAME_CODE_IGNORE_MS) { seen.delete(code); } });
    }
    if (last !== undefined && now - last < SAME_CODE_IGNORE_MS) { return; }
    handleCode(text, "camera");
  }

  var scanChain = Promise.resolve();

  /* Scans are handled one at a time, in the order they were read. */
  function handleCode(raw, source) {
    scanChain = scanChain.then(function () { return processCode(raw, source); })
      .catch(function (err) { showError("Не удалось обработать код: " + (err && err.message ? err.message : err)); });
    return scanChain;
  }

  async function processCode(raw, source) {
    if (state.stopped) { return; }
    var parsed = D.parseCode(raw);
    if (parsed.type === "empty") { return; }
    if (parsed.type === "group") { return openGroup(parsed.code); }
    var result = await performScan(parsed, { source: source });
    showAnswer(result, parsed);
  }

  /* One scan: online when possible, otherwise judged here and queued. */
  async function performScan(parsed, options) {
    options = options || {};
    var clientScanId = newScanId();
    var scannedAt = new Date().toISOString();
    var body = {
      code: codeToSend(parsed), client_scan_id: clientScanId, scanned_at: scannedAt,
      device_label: state.deviceLabel
    };
    if (cfg.gate) { body.gate = cfg.gate; }
    if (options.force) { body.force = true; }
    var hash = await ticketHash(parsed);
    var key = D.localKey(state.index, parsed, hash);
    if (state.online && state.queueCount === 0) {
      try {
        var result = await api("POST", "/scans", body);
        await rememberServerAnswer(key, result, clientScanId);
        rememberCheckin(result, parsed, clientScanId, key);
        return result;
      } catch (err) {
        if (err instanceof ApiFailure) {
          return { status: "error", message: err.message,
            title: err.status === 401 ? "Сканер остановлен" : "Не удалось проверить код" };
        }
        setOnline(false);
      }
    }
    var local = D.judgeOffline(state.index, parsed, hash, state.local, new Date());
    local.clientScanId = clientScanId;
    await S.enqueue({
      clientScanId: clientScanId, scope: scope, seq: Date.now() * 1000 + (state.seq++ % 1000),
      body: body, localStatus: local.status, name: local.attendee ? local.attendee.name : null,
      localKey: key
    });
    // Remembered at once: the same ticket read again (typed, scanned, found) is «Уже отмечен».
    if ((local.status === "ok" || local.status === "unknown_offline") && key) {
      await markLocal(key, scannedAt, clientScanId);
    }
    state.queueCount = await S.queueCount(scope);
    renderNet();
    rememberCheckin(local, parsed, clientScanId, key);
    if (state.online) { syncSoon(); }
    return local;
  }

  async function markLocal(hash, at, clientScanId, by) {
    var item = { scope: scope, hash: hash, at: at || new Date().toISOString(), by: by || "этот телефон", clientScanId: clientScanId };
    state.local.set(hash, item);
    await S.putLocal(item);
  }

  async function forgetLocal(hash, clientScanId) {
    var mine = state.local.get(hash);
    if (!mine || (clientScanId && mine.clientScanId !== clientScanId)) { return; }
    state.local.delete(hash);
    await S.deleteLocal(scope, hash);
  }

  /* What the server said about a ticket is remembered too, so the phone knows it offline:
   * checked in now (here), or earlier (by whom); a mark it made that the server refused goes. */
  async function rememberServerAnswer(key, result, clientScanId) {
    if (!key || !result) { return; }
    if (result.status === "ok") {
      await markLocal(key, result.checkin && result.checkin.at, clientScanId);
    } else if (result.status === "already_checked_in" && result.first_checkin) {
      var mine = state.local.get(key);
      if (!mine) { await markLocal(key, result.first_checkin.at, clientScanId, result.first_checkin.by); }
    } else {
      await forgetLocal(key, clientScanId);
    }
  }

  function rememberCheckin(result, parsed, clientScanId, hash) {
    if (result.status !== "ok") { return; }
    state.lastCheckin = {
      scanId: result.scan_id || (result.checkin && result.checkin.id) || null,
      clientScanId: clientScanId, hash: hash,
      name: result.attendee ? result.attendee.name : "участник"
    };
    renderUndo();
  }

  var syncTimer = null;
  function syncSoon() {
    clearTimeout(syncTimer);
    syncTimer = setTimeout(function () { reconnect(); }, 200);
  }

  /* Send everything queued, in batches; each acknowledged item leaves the queue. */
  function syncQueue() {
    if (state.syncing) { return state.syncing; }
    state.syncing = (async function () {
      try {
        for (;;) {
          var items = await S.queued(scope);
          if (!items.length) { break; }
          var chunk = items.slice(0, BATCH_SIZE);
          var data = await api("POST", "/scans/batch", { scans: chunk.map(function (i) { return i.body; }) }, 20000);
          var results = (data && data.results) || [];
          if (results.length !== chunk.length) { throw new OfflineError("short batch answer"); }
          await S.acknowledge(chunk.map(function (i) { return i.clientScanId; }));
          for (var k = 0; k < chunk.length; k++) { await afterSync(chunk[k], results[k]); }
          state.queueCount = await S.queueCount(scope);
          renderNet();
        }
      } finally {
        state.syncing = null;
      }
      state.queueCount = await S.queueCount(scope);
      renderNet();
    })();
    return state.syncing;
  }

  async function afterSync(item, result) {
    if (item.localKey && result && result.status !== "error") {
      await rememberServerAnswer(item.localKey, result, item.clientScanId);
    }
    var entry = state.recent.find(function (r) { return r.clientScanId === item.clientScanId; });
    if (entry) {
      entry.pending = false;
      if (result && result.status !== item.localStatus) {
        entry.corrected = D.present(result).title;
      }
    }
    if (state.lastCheckin && state.lastCheckin.clientScanId === item.clientScanId && result) {
      state.lastCheckin.scanId = result.scan_id || (result.checkin && result.checkin.id) || null;
    }
    if (item.undoReason && result && result.status === "ok") {
      var scanId = result.scan_id || (result.checkin && result.checkin.id);
      try { await api("POST", "/checkins/" + scanId + "/undo", { reason: item.undoReason }); }
      catch (err) { addRecent({ tone: "bad", title: "Отмена не отправлена", name: item.name || "", when: new Date().toISOString() }); }
    }
    renderRecent();
  }

  /* ------------------------------------------------------------------ answer UI */

  function showAnswer(result, parsed) {
    var view = D.present(result, new Date());
    var box = $("answer");
    box.dataset.tone = view.tone;
    box.dataset.status = result.status;
    box.hidden = false;
    $("answer-offline").hidden = !view.offline;
    $("answer-title").textContent = view.title;
    $("answer-name").textContent = view.name;
    var lines = $("answer-lines");
    lines.textContent = "";
    view.lines.concat(view.details).forEach(function (text) {
      var li = document.createElement("li");
      li.textContent = text;
      if (text === "Нужна помощь") { li.className = "sc-assist"; }
      lines.appendChild(li);
    });
    announce([view.offline ? "Офлайн." : "", view.title, view.name].concat(view.lines, view.details));
    var canForce = result.status === "not_open" && cfg.canForce && !result.offline && parsed;
    state.forceCode = canForce ? parsed : null;
    $("answer-force").hidden = !canForce;
    signal(view.tone);
    addRecent({ tone: view.tone, title: view.title, name: view.name, when: new Date().toISOString(),
      pending: !!result.offline, clientScanId: result.clientScanId || null });
    clearTimeout(state.answerTimer);
    var wait = view.tone === "ok" ? 2500 : (canForce ? 15000 : 5000);
    state.answerTimer = setTimeout(hideAnswer, wait);
  }

  /* Screen readers hear every answer from a live region that is always on the page. */
  function announce(parts) {
    var text = parts.filter(function (p) { return p; }).join(". ").replace(/\.\./g, ".");
    var live = $("answer-live");
    live.textContent = "";
    setTimeout(function () { live.textContent = text; }, 30);
  }

  function showError(message) {
    showAnswer({ status: "error", message: message }, null);
  }

  function hideAnswer() {
    clearTimeout(state.answerTimer);
    $("answer").hidden = true;
    var input = $("code-input");
    if (document.activeElement === document.body || document.activeElement === $("answer-close")) {
      input.focus({ preventScroll: true });
    }
  }

  function signal(tone) {
    var s = D.SIGNALS[tone] || D.SIGNALS.bad;
    if (navigator.vibrate) { try { navigator.vibrate(s.vibrate); } catch (err) { /* not allowed */ } }
    var ctx = state.audio;
    if (!ctx) { return; }
    try {
      if (ctx.state === "suspended") { ctx.resume(); }
      var t = ctx.currentTime + 0.01;
      s.tones.forEach(function (pair) {
        var freq = pair[0];
        var dur = pair[1] / 1000;
        if (freq > 0) {
          var osc = ctx.createOscillator();
          var gain = ctx.createGain();
          osc.type = "square";
          osc.frequency.value = freq;
          gain.gain.setValueAtTime(0.15, t);
          gain.gain.exponentialRampToValueAtTime(0.001, t + dur);
          osc.connect(gain).connect(ctx.destination);
          osc.start(t);
          osc.stop(t + dur);
        }
        t += dur;
      });
    } catch (err) { /* sound is a bonus */ }
  }

  function unlockAudio() {
    if (state.audio) { return; }
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return; }
    try { state.audio = new Ctx(); } catch (err) { state.audio = null; }
  }

  function addRecent(entry) {
    state.recent.unshift(entry);
    state.recent = state.recent.slice(0, 12);
    renderRecent();
  }

  var TONE_WORDS = { ok: "принят", warn: "внимание", bad: "отказ" };

  function renderRecent() {
    var list = $("recent-list");
    list.textContent = "";
    $("recent-empty").hidden = state.recent.length > 0;
    state.recent.forEach(function (r) {
      var li = document.createElement("li");
      li.className = "sc-recent-item";
      li.dataset.tone = r.tone;
      var time = document.createElement("span");
      time.className = "sc-recent-time";
      time.textContent = D.formatTime(r.when);
      var text = document.createElement("span");
      text.className = "sc-recent-text";
      text.textContent = (r.name ? r.name + " — " : "") + r.title;
      var sr = document.createElement("span");
      sr.className = "sc-visually-hidden";
      sr.textContent = " (" + (TONE_WORDS[r.tone] || "") + ")";
      li.appendChild(time);
      li.appendChild(text);
      li.appendChild(sr);
      if (r.pending) {
        var badge = document.createElement("span");
        badge.className = "sc-badge";
        badge.textContent = "не отправлено";
        li.appendChild(badge);
      } else if (r.corrected) {
        var fix = document.createElement("span");
        fix.className = "sc-badge sc-badge-warn";
        fix.textContent = "сервер: " + r.corrected;
        li.appendChild(fix);
      }
      list.appendChild(li);
    });
  }

  function renderNet() {
    var body = document.body;
    body.dataset.online = state.online ? "1" : "0";
    $("net-label").textContent = state.online ? "онлайн" : "офлайн";
    $("queue-strip").hidden = state.online && state.queueCount === 0;
    $("queue-count").textContent = state.queueCount
      ? "не отправлено: " + state.queueCount + (state.online ? " — отправляем…" : " — отправятся сами, когда появится связь")
      : "Нет связи: отмечаем по данным телефона, отметки отправятся сами.";
    $("menu-net").textContent = state.online ? "онлайн" : "офлайн — отметки копятся на телефоне";
    $("menu-queue").textContent = String(state.queueCount);
    $("menu-data").textContent = state.index
      ? "билетов: " + state.index.tickets.length + ", на " + D.formatTime(state.dataAt)
      : "ещё не загружены";
    $("menu-device").textContent = state.deviceLabel || "";
    if ($("menu-valid")) { $("menu-valid").textContent = D.formatTime(cfg.validUntil, new Date(0)); }
    body.dataset.queue = String(state.queueCount);
    body.dataset.tickets = state.index ? String(state.index.tickets.length) : "";
  }

  function renderUndo() {
    var btn = $("undo-btn");
    btn.hidden = !cfg.canUndo;
    btn.disabled = !state.lastCheckin;
  }

  /* ------------------------------------------------------------------ dialogs */

  function openDialog(dialog) {
    hideAnswer();
    if (!dialog.open) { dialog.showModal(); }
  }

  document.querySelectorAll("dialog [data-close]").forEach(function (btn) {
    btn.addEventListener("click", function () { btn.closest("dialog").close(); });
  });
  document.querySelectorAll("dialog").forEach(function (dialog) {
    dialog.addEventListener("close", function () { $("code-input").focus({ preventScroll: true }); });
  });

  /* Group list: «все пришли», untick the absent, confirm → one check-in each. */
  var groupPeople = [];

  async function openGroup(code) {
    var data = null;
    var err = null;
    if (state.online && state.queueCount === 0) {
      try { data = await api("GET", "/groups/" + encodeURIComponent(code)); }
      catch (e) {
        if (e instanceof OfflineError) { setOnline(false); }
        else if (e.status === 404) { err = "Группа не найдена среди записей этого мероприятия."; }
        else { err = e.message; }
      }
    }
    if (!data && !err) {
      data = D.groupOffline(state.index, await sha16(code), state.local);
      if (!data) { err = state.index ? "Группа не найдена среди записей этого мероприятия." : "Нет связи, и данные для офлайн-отметки ещё не загружены."; }
    }
    var dialog = $("group-dialog");
    $("group-error").hidden = !err;
    $("group-error").textContent = err || "";
    groupPeople = data ? data.tickets : [];
    $("group-title").textContent = data ? "Группа: " + data.group.organization : "Группа";
    $("group-sub").textContent = data ? "Человек в группе: " + data.group.size + ". Снимите отметку с тех, кого нет." : "";
    var list = $("group-list");
    list.textContent = "";
    groupPeople.forEach(function (p, i) {
      var li = document.createElement("li");
      var id = "group-person-" + i;
      var box = document.createElement("input");
      box.type = "checkbox";
      box.id = id;
      box.dataset.index = String(i);
      var eligible = p.status === "confirmed" && !p.checked_in;
      box.disabled = !eligible;
      box.checked = eligible;
      var label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = p.name + (p.class_name ? ", " + p.class_name : (p.kind === "teacher" ? ", педагог" : ""));
      li.appendChild(box);
      li.appendChild(label);
      var note = p.checked_in ? "уже отмечен" : (p.status === "waitlisted" ? "в листе ожидания" : (p.status === "cancelled" ? "отменён" : ""));
      if (p.needs_assistance) { note = (note ? note + " · " : "") + "нужна помощь"; }
      if (note) {
        var small = document.createElement("span");
        small.className = "sc-note";
        small.textContent = " " + note;
        label.appendChild(small);
      }
      list.appendChild(li);
    });
    list.querySelectorAll("input").forEach(function (b) { b.addEventListener("change", updateGroupButton); });
    $("group-leave").hidden = true;
    updateGroupButton();
    openDialog(dialog);
  }

  function groupBoxes(selector) {
    return Array.prototype.slice.call($("group-list").querySelectorAll(selector));
  }

  function updateGroupButton() {
    var n = groupBoxes("input:checked").length;
    var eligible = groupBoxes("input:not(:disabled)").length;
    var btn = $("group-confirm");
    btn.textContent = "Отметить выбранных (" + n + ")";
    btn.disabled = n === 0;
    $("group-leave-save").textContent = "Отметить выбранных (" + n + ")";
    $("group-all").hidden = eligible === 0;
    $("group-all").textContent = "Все пришли — отметить всех (" + eligible + ")";
    if (!$("group-leave").hidden) { askBeforeLeavingGroup(); }
  }

  /* Closing the list with people ticked would check nobody in: say so and ask. */
  function askBeforeLeavingGroup() {
    var n = groupBoxes("input:checked").length;
    if (n === 0) { $("group-leave").hidden = true; $("group-dialog").close(); return; }
    $("group-leave-text").textContent = "Никто ещё не отмечен. Выбрано: " + n +
      ". Отметить их или закрыть без отметки?";
    var panel = $("group-leave");
    if (panel.hidden) { panel.hidden = false; panel.focus(); }
  }

  $("group-close").addEventListener("click", askBeforeLeavingGroup);
  $("group-dialog").addEventListener("cancel", function (event) {
    // Escape (or the phone's back gesture) asks as well when people are ticked.
    if (groupBoxes("input:checked").length) { event.preventDefault(); askBeforeLeavingGroup(); }
  });
  $("group-leave-discard").addEventListener("click", function () { $("group-dialog").close(); });
  $("group-leave-save").addEventListener("click", function () { checkInGroup(groupBoxes("input:checked")); });
  $("group-confirm").addEventListener("click", function () { checkInGroup(groupBoxes("input:checked")); });

  /* «Все пришли» does what it says: everyone who can be checked in is, in one tap. */
  $("group-all").addEventListener("click", function () {
    var boxes = groupBoxes("input:not(:disabled)");
    boxes.forEach(function (b) { b.checked = true; });
    checkInGroup(boxes);
  });

  async function checkInGroup(boxes) {
    var chosen = boxes.map(function (b) { return groupPeople[Number(b.dataset.index)]; });
    if (!chosen.length) { return; }
    $("group-leave").hidden = true;
    $("group-dialog").close();
    var ok = 0;
    var other = 0;
    var anyOffline = false;
    for (var i = 0; i < chosen.length; i++) {
      var result = await performScan(D.parseCode(chosen[i].code), {});
      if (result.offline) { anyOffline = true; }
      if (result.status === "ok") { ok += 1; } else { other += 1; }
    }
    var summary = {
      status: other ? "group_partial" : "group_ok", offline: anyOffline
    };
    var view = { tone: other ? "warn" : "ok", title: "Группа: отмечено " + ok + " из " + chosen.length };
    showGroupSummary(view, summary, other);
  }

  function showGroupSummary(view, summary, other) {
    var box = $("answer");
    box.dataset.tone = view.tone;
    box.dataset.status = summary.status;
    box.hidden = false;
    $("answer-offline").hidden = !summary.offline;
    $("answer-title").textContent = view.title;
    $("answer-name").textContent = "";
    var lines = $("answer-lines");
    lines.textContent = "";
    if (other) {
      var li = document.createElement("li");
      li.textContent = "Не отмечено: " + other + " (уже отмечены или билет недействителен).";
      lines.appendChild(li);
    }
    $("answer-force").hidden = true;
    announce([view.title, other ? "Не отмечено: " + other : ""]);
    signal(view.tone);
    addRecent({ tone: view.tone, title: view.title, name: "", when: new Date().toISOString(), pending: summary.offline });
    clearTimeout(state.answerTimer);
    state.answerTimer = setTimeout(hideAnswer, 4000);
  }

  /* Search by surname or school, check in from the results. */
  var searchTimer = null;
  var searchSeq = 0;

  $("search-btn").addEventListener("click", function () {
    $("search-input").value = "";
    $("search-list").textContent = "";
    $("search-status").textContent = "Введите хотя бы 2 буквы.";
    openDialog($("search-dialog"));
    $("search-input").focus();
  });

  $("search-input").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 300);
  });

  async function runSearch() {
    var q = $("search-input").value.trim();
    var mine = ++searchSeq;
    if (q.length < 2) {
      $("search-list").textContent = "";
      $("search-status").textContent = "Введите хотя бы 2 буквы.";
      return;
    }
    var found = null;
    var note = "";
    if (state.online && state.queueCount === 0) {
      try { found = (await api("GET", "/tickets?q=" + encodeURIComponent(q))).tickets; }
      catch (e) { if (e instanceof OfflineError) { setOnline(false); } else { note = e.message; } }
    }
    if (!found && !note) {
      found = D.searchOffline(state.index, q, state.local, 20);
      note = state.index ? "Поиск по данным телефона (офлайн)." : "Нет связи, и данные ещё не загружены.";
    }
    if (mine !== searchSeq) { return; }
    renderSearch(found || [], note);
  }

  function renderSearch(found, note) {
    var list = $("search-list");
    list.textContent = "";
    $("search-status").textContent = (found.length ? "Найдено: " + found.length + "." : "Никого не нашли.") + (note ? " " + note : "");
    found.forEach(function (p) {
      var li = document.createElement("li");
      li.className = "sc-person";
      var text = document.createElement("span");
      text.textContent = p.name + (p.class_name ? ", " + p.class_name : "") + (p.organization ? " · " + p.organization : "");
      li.appendChild(text);
      var status = p.checked_in ? "уже отмечен" : (p.status === "confirmed" ? "" : (p.status === "waitlisted" ? "в листе ожидания" : "отменён"));
      if (p.needs_assistance) { status = (status ? status + " · " : "") + "нужна помощь"; }
      if (status) {
        var small = document.createElement("span");
        small.className = "sc-note";
        small.textContent = " " + status;
        li.appendChild(small);
      }
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = "sc-btn sc-btn-primary sc-btn-small";
      btn.textContent = "Отметить";
      btn.setAttribute("aria-label", "Отметить: " + p.name);
      btn.addEventListener("click", async function () {
        $("search-dialog").close();
        var parsed = D.parseCode(p.code);
        var result = await performScan(parsed, {});
        showAnswer(result, parsed);
      });
      li.appendChild(btn);
      list.appendChild(li);
    });
  }

  /* Walk-ins: a student or teacher of a known school, or a parent; capacity permitting. */
  function fillSchools() {
    var select = $("walkin-org");
    var current = select.value;
    select.textContent = "";
    var blank = document.createElement("option");
    blank.value = "";
    blank.textContent = "Выберите школу";
    select.appendChild(blank);
    var schools = (state.index ? state.index.schools : []).slice().sort(function (a, b) {
      return String(a[1]).localeCompare(String(b[1]), "ru", { numeric: true });
    });
    schools.forEach(function (s) {
      var opt = document.createElement("option");
      opt.value = String(s[0]);
      opt.textContent = s[1];
      select.appendChild(opt);
    });
    select.value = current;
  }

  function walkinKind() {
    var checked = document.querySelector("#walkin-form input[name=kind]:checked");
    return checked ? checked.value : "student";
  }

  function syncWalkinFields() {
    var kind = walkinKind();
    document.querySelectorAll("#walkin-form .sc-field").forEach(function (el) {
      el.hidden = el.dataset.for.split(" ").indexOf(kind) < 0;
    });
  }

  document.querySelectorAll("#walkin-form input[name=kind]").forEach(function (r) {
    r.addEventListener("change", syncWalkinFields);
  });

  $("walkin-btn").addEventListener("click", function () {
    clearWalkinErrors();
    state.walkinId = newScanId();
    $("walkin-form").reset();
    syncWalkinFields();
    openDialog($("walkin-dialog"));
    if (!state.online) {
      walkinErrors([["", "Нет связи с сервером: записать нового участника можно только онлайн."]]);
    }
  });

  var WALKIN_FIELDS = {
    organization_id: "walkin-org", last_name: "walkin-last", first_name: "walkin-first",
    class_name: "walkin-class", name: "walkin-name", phone: "walkin-phone"
  };

  function clearWalkinErrors() {
    var box = $("walkin-errors");
    box.hidden = true;
    box.querySelector("ul").textContent = "";
    Object.keys(WALKIN_FIELDS).forEach(function (f) {
      var input = $(WALKIN_FIELDS[f]);
      input.removeAttribute("aria-invalid");
      var err = $(WALKIN_FIELDS[f] + "-error");
      err.hidden = true;
      err.textContent = "";
      input.setAttribute("aria-describedby", (input.getAttribute("aria-describedby") || "").replace(WALKIN_FIELDS[f] + "-error", "").trim());
    });
  }

  function walkinErrors(pairs) {
    var box = $("walkin-errors");
    var ul = box.querySelector("ul");
    ul.textContent = "";
    pairs.forEach(function (pair) {
      var li = document.createElement("li");
      var id = WALKIN_FIELDS[pair[0]];
      if (id) {
        var a = document.createElement("a");
        a.href = "#" + id;
        a.textContent = pair[1];
        li.appendChild(a);
        var input = $(id);
        input.setAttribute("aria-invalid", "true");
        var err = $(id + "-error");
        err.textContent = pair[1];
        err.hidden = false;
        input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + id + "-error").trim());
      } else {
        li.textContent = pair[1];
      }
      ul.appendChild(li);
    });
    box.hidden = false;
    box.focus();
  }

  $("walkin-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    clearWalkinErrors();
    var kind = walkinKind();
    // One id per opened form: pressing the button twice never registers the person twice.
    var body = { kind: kind, client_scan_id: state.walkinId, device_label: state.deviceLabel };
    if (cfg.gate) { body.gate = cfg.gate; }
    var problems = [];
    if (kind === "parent") {
      body.name = $("walkin-name").value.trim();
      var phone = $("walkin-phone").value.trim();
      if (phone) { body.phone = phone; }
      if (!body.name) { problems.push(["name", "Укажите фамилию и имя родителя."]); }
    } else {
      body.organization_id = Number($("walkin-org").value) || null;
      body.last_name = $("walkin-last").value.trim();
      body.first_name = $("walkin-first").value.trim();
      if (!body.organization_id) { problems.push(["organization_id", "Выберите школу."]); }
      if (!body.last_name) { problems.push(["last_name", "Укажите фамилию."]); }
      if (!body.first_name) { problems.push(["first_name", "Укажите имя."]); }
      if (kind === "student") {
        body.class_name = $("walkin-class").value.trim().toUpperCase();
        if (!body.class_name) { problems.push(["class_name", "Укажите класс, например 7Б."]); }
      }
    }
    if (problems.length) { walkinErrors(problems); return; }
    try {
      var result = await api("POST", "/walk-ins", body, 8000);
      $("walkin-dialog").close();
      rememberCheckin(result, null, null, null);
      showAnswer(result, null);
      if (result.status === "ok") { refreshData().catch(function () { /* next refresh */ }); }
    } catch (err) {
      if (err instanceof OfflineError) {
        setOnline(false);
        walkinErrors([["", "Нет связи с сервером: записать нового участника можно только онлайн."]]);
      } else {
        var pairs = Object.keys(err.fields || {}).map(function (f) { return [f, err.fields[f]]; });
        if (!pairs.length) { pairs = [["", err.message]]; }
        else if (err.code === "event_full") { pairs.unshift(["", err.message]); }
        walkinErrors(pairs);
      }
    }
  });

  /* Undo the last check-in, with a reason. */
  $("undo-btn").addEventListener("click", function () {
    if (!state.lastCheckin) { return; }
    $("undo-who").textContent = "Последняя отметка: " + state.lastCheckin.name + ".";
    $("undo-reason").value = "";
    $("undo-error").hidden = true;
    $("undo-reason").removeAttribute("aria-invalid");
    openDialog($("undo-dialog"));
    $("undo-reason").focus();
  });

  $("undo-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    var reason = $("undo-reason").value.trim();
    var error = $("undo-error");
    if (!reason) {
      error.textContent = "Укажите причину отмены.";
      error.hidden = false;
      $("undo-reason").setAttribute("aria-invalid", "true");
      $("undo-reason").focus();
      return;
    }
    var last = state.lastCheckin;
    try {
      if (last.scanId) {
        await api("POST", "/checkins/" + last.scanId + "/undo", { reason: reason });
      } else {
        var items = await S.queued(scope);
        var item = items.find(function (i) { return i.clientScanId === last.clientScanId; });
        if (!item) { throw new OfflineError("not queued"); }
        item.undoReason = reason;
        await S.updateQueued(item);
      }
    } catch (err) {
      error.textContent = err instanceof OfflineError
        ? "Нет связи с сервером. Отмену можно сделать, когда связь появится."
        : err.message;
      error.hidden = false;
      return;
    }
    if (last.hash) {
      state.local.delete(last.hash);
      await S.deleteLocal(scope, last.hash);
    }
    state.lastCheckin = null;
    renderUndo();
    $("undo-dialog").close();
    addRecent({ tone: "warn", title: "Отметка отменена", name: last.name, when: new Date().toISOString(), pending: !last.scanId });
  });

  /* ------------------------------------------------------------------ wiring */

  $("code-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("code-input");
    var value = input.value;
    input.value = "";
    if (value.trim()) { handleCode(value, "typed"); }
  });

  $("answer-close").addEventListener("click", hideAnswer);
  $("answer").addEventListener("click", function (event) {
    if (event.target === $("answer") || event.target.closest(".sc-answer-body") && !event.target.closest("button")) { hideAnswer(); }
  });
  $("answer-force").addEventListener("click", async function () {
    var parsed = state.forceCode;
    hideAnswer();
    if (!parsed) { return; }
    var result = await performScan(parsed, { force: true });
    if (result.status === "ok") { result.forced = true; }
    showAnswer(result, parsed);
  });

  $("menu-btn").addEventListener("click", function () {
    renderNet();
    var note = $("logout-note");
    if (note) {
      note.hidden = state.queueCount === 0;
      note.textContent = "Не отправлено отметок: " + state.queueCount + ". После выхода они останутся " +
        "на телефоне и отправятся, когда вы снова откроете сканер; списки участников будут удалены.";
    }
    openDialog($("menu-dialog"));
  });
  $("net").addEventListener("click", function () { state.backoff = BACKOFF_MIN_MS; reconnect(); });
  $("menu-sync").addEventListener("click", function () {
    state.backoff = BACKOFF_MIN_MS;
    $("menu-sync").disabled = true;
    reconnect().finally(function () { $("menu-sync").disabled = false; renderNet(); });
  });

  window.addEventListener("online", function () { state.backoff = BACKOFF_MIN_MS; reconnect(); });
  window.addEventListener("offline", function () { setOnline(false); });
  document.addEventListener("pointerdown", unlockAudio, { once: false, passive: true });
  document.addEventListener("keydown", unlockAudio);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !$("answer").hidden) { hideAnswer(); return; }
    // A USB/Bluetooth scanner types wherever the focus is: send its keys to the code field.
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (!typing && !document.querySelector("dialog[open]") && event.key && event.key.length === 1 &&
        !event.ctrlKey && !event.metaKey && !event.altKey && !state.stopped) {
      $("code-input").focus({ preventScroll: true });
    }
  });

  var camera = null;

  function cameraStatus(status) {
    var msg = $("camera-msg");
    var start = $("camera-start");
    var messages = {
      running: "Наведите камеру на QR-код билета.",
      denied: "Нет доступа к камере. Разрешите камеру в настройках браузера или вводите код вручную.",
      unavailable: "Камера не найдена или занята другим приложением. Можно вводить код вручную.",
      unsupported: "Этот браузер не даёт доступа к камере. Вводите код вручную или подключите сканер."
    };
    msg.textContent = messages[status] || "";
    document.body.dataset.camera = status;
    start.hidden = status === "running" || status === "unsupported";
    $("camera-switch").hidden = !(status === "running" && camera.canSwitch());
    $("torch").hidden = !(status === "running" && camera.hasTorch());
  }

  function startCamera() {
    camera = camera || new window.ScannerCamera({
      video: $("video"), onCode: onCameraCode, onStatus: cameraStatus, workerUrl: cfg.workerUrl
    });
    return camera.start();
  }

  $("camera-start").addEventListener("click", function () { startCamera(); });
  $("camera-switch").addEventListener("click", function () { camera.switchCamera(); });
  $("torch").addEventListener("click", async function () {
    try {
      var on = await camera.toggleTorch();
      $("torch").setAttribute("aria-pressed", on ? "true" : "false");
      $("torch").textContent = on ? "Выключить фонарик" : "Фонарик";
    } catch (err) { $("torch").hidden = true; }
  });

  async function cachePage() {
    if (!("serviceWorker" in navigator)) { return; }
    try {
      await navigator.serviceWorker.register(cfg.swUrl, { scope: "/" });
      await navigator.serviceWorker.ready;
      var cache = await caches.open("profroute-scanner-pages");
      await cache.add(new Request(cfg.pageUrl, { credentials: "same-origin", cache: "no-store" }));
    } catch (err) { /* offline page load stays unavailable; the scanner still works now */ }
  }

  async function init() {
    renderUndo();
    state.deviceLabel = await S.getMeta("deviceLabel");
    if (!state.deviceLabel) {
      state.deviceLabel = "Телефон " + newScanId().slice(0, 4);
      await S.putMeta("deviceLabel", state.deviceLabel);
    }
    var saved = await S.getData(scope);
    state.local = await S.localCheckins(scope);
    state.queueCount = await S.queueCount(scope);
    if (saved) { useData(saved); }
    if (state.stopped) { return; }
    state.online = navigator.onLine !== false;
    renderNet();
    // With a mouse/keyboard (a desk with a USB scanner) the code field is ready at once; on a
    // touch phone focusing it would pop the keyboard over the camera.
    if (window.matchMedia && window.matchMedia("(pointer: fine)").matches) {
      $("code-input").focus({ preventScroll: true });
    }
    startCamera();
    var pageCached = cachePage();
    if (state.online) {
      await reconnect();
    } else {
      setOnline(false);
    }
    // Fresh data every few minutes while online; a link stops working at its expiry even offline.
    scheduleRefresh(REFRESH_EVERY_MS);
    setInterval(checkExpiry, 30000);
    await pageCached;
    document.body.dataset.ready = "1";
  }

  init().catch(function (err) {
    $("banner").textContent = "Сканер не запустился: " + (err && err.message ? err.message : err);
    $("banner").hidden = false;
  });
})();
