/* Профмаршрут scanner: the ONE place that decides what a scan means and how the answer looks.
 *
 * Used online (the server's answer is only presented) and offline (the scan is judged here from
 * the scanner-data downloaded earlier, then presented the same way). No DOM, no network: the
 * functions take plain data so they run in the page, the service worker and Node tests alike.
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    root.ScannerDecide = factory();
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  var SHORT_CODE = /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$/;
  var HASH_CODE = /^#[0-9a-f]{16}$/;
  var TOMSK = "Asia/Tomsk";

  /* A USB/Bluetooth scanner "types" the code as keystrokes; with the Russian keyboard layout
   * active, Latin letters arrive as Cyrillic ones. Map the keys back (ЙЦУКЕН → QWERTY). */
  var RU_KEYS = "йцукенгшщзхъфывапролджэячсмитьбюё";
  var EN_KEYS = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`";
  var RU_SHIFTED = { "Ж": ":", "Э": "\"", "Х": "{", "Ъ": "}", "Б": "<", "Ю": ">", "Ё": "~",
    ".": "/", ",": "?", "\"": "@", "№": "#", ";": "$", ":": "^", "?": "&" };

  function fixKeyboardLayout(text) {
    if (!/[а-яё]/i.test(text)) { return text; }
    var out = "";
    for (var i = 0; i < text.length; i++) {
      var ch = text[i];
      var lower = ch.toLowerCase();
      var at = RU_KEYS.indexOf(lower);
      if (RU_SHIFTED[ch] !== undefined) {
        out += RU_SHIFTED[ch];
      } else if (at >= 0) {
        var latin = EN_KEYS[at];
        out += ch === lower ? latin : latin.toUpperCase();
      } else {
        out += ch;
      }
    }
    return out;
  }

  /* What a code read from a QR, typed by a scanner or entered by hand stands for. */
  function parseCode(raw) {
    var text = fixKeyboardLayout(String(raw || "").trim());
    if (!text) { return { type: "empty", raw: "" }; }
    var group = text.match(/\/g\/([A-Za-z0-9_-]+)\/?(?:[?#].*)?$/);
    if (group) { return { type: "group", code: group[1], raw: text }; }
    var ticket = text.match(/\/t\/([A-Za-z0-9_-]+)\/?(?:[?#].*)?$/);
    if (ticket) { return { type: "ticket", token: ticket[1], raw: text }; }
    if (HASH_CODE.test(text.toLowerCase())) {
      return { type: "hash", hash: text.slice(1).toLowerCase(), raw: text.toLowerCase() };
    }
    var compact = text.replace(/[\s-]/g, "").toUpperCase();
    if (SHORT_CODE.test(compact)) { return { type: "short", code: compact, raw: compact }; }
    return { type: "ticket", token: text, raw: text };
  }

  /* The text whose hash identifies the ticket in scanner-data. */
  function hashInput(parsed) {
    if (parsed.type === "ticket") { return parsed.token; }
    if (parsed.type === "short") { return parsed.code; }
    if (parsed.type === "group") { return parsed.code; }
    return null;
  }

  /* scanner-data (API contract) → lookup tables. */
  function buildIndex(payload) {
    var index = {
      event: payload.event || {},
      generatedAt: payload.generated_at || null,
      validUntil: payload.valid_until || null,
      schools: payload.schools || [],
      tickets: payload.tickets || [],
      groups: payload.groups || [],
      byToken: new Map(),
      byShort: new Map(),
      byGroup: new Map()
    };
    index.tickets.forEach(function (row, i) {
      index.byToken.set(row[0], i);
      if (row[8]) { index.byShort.set(row[8], i); }
    });
    index.groups.forEach(function (row) { index.byGroup.set(row[0], row); });
    return index;
  }

  function ticketView(index, i) {
    var row = index.tickets[i];
    var school = row[4] === null || row[4] === undefined ? null : index.schools[row[4]];
    return {
      index: i,
      hash: row[0],
      status: row[1],
      name: row[2],
      class_name: row[3] || null,
      organization: school ? school[1] : null,
      organization_id: school ? school[0] : null,
      needs_assistance: !!row[5],
      kind: row[6],
      checked_in_at: row[7] || null
    };
  }

  function findTicket(index, parsed, hash) {
    if (!index) { return null; }
    var i;
    if (parsed.type === "hash") { i = index.byToken.get(parsed.hash); }
    else if (parsed.type === "short") { i = index.byShort.get(hash); }
    else { i = index.byToken.get(hash); }
    return i === undefined ? null : ticketView(index, i);
  }

  /* Where the phone remembers a check-in of what was read: under the ticket's hash when the
   * downloaded data knows the ticket (so its QR, its typed short code, a search hit and a tick
   * in its group list are one person), else under the hash of what was read itself. */
  function localKey(index, parsed, hash) {
    var ticket = parsed.type === "group" ? null : findTicket(index, parsed, hash);
    if (ticket) { return ticket.hash; }
    if (parsed.type === "hash") { return parsed.hash; }
    return hash || null;
  }

  function localMark(local, key) {
    if (!local || !key) { return null; }
    return (local.get ? local.get(key) : local[key]) || null;
  }

  function checkinWindow(index) {
    var ev = (index && index.event) || {};
    var opens = ev.checkin_opens_at || null;
    var closes = ev.checkin_closes_at || null;
    if (!opens && ev.starts_at) { opens = new Date(Date.parse(ev.starts_at) - 2 * 3600 * 1000).toISOString(); }
    if (!closes && ev.ends_at) { closes = ev.ends_at; }
    return { opens: opens, closes: closes };
  }

  /* Judge a scan with no server: the same statuses as the API (already checked in means
   * on this phone or known from the last download). ``local`` maps ticket hash → {at, by}. */
  function judgeOffline(index, parsed, hash, local, now) {
    var ticket = parsed.type === "group" ? null : findTicket(index, parsed, hash);
    var key = localKey(index, parsed, hash);
    var result = { status: "invalid", offline: true, attendee: null, checkin: null, ticket: ticket,
      localKey: key };
    if (!ticket) {
      if (!index) {
        // No download yet: nothing to judge by, but this phone remembers what it queued.
        var queued = localMark(local, key);
        result.status = queued ? "already_checked_in" : "unknown_offline";
        if (queued) { result.first_checkin = { at: queued.at, by: queued.by || "этот телефон" }; }
      }
      return result;
    }
    result.attendee = {
      name: ticket.name, kind: ticket.kind, organization: ticket.organization,
      class_name: ticket.class_name, needs_assistance: ticket.needs_assistance
    };
    if (ticket.status === "cancelled") { result.status = "cancelled"; return result; }
    if (ticket.status === "waitlisted") { result.status = "waitlisted"; return result; }
    var win = checkinWindow(index);
    var t = (now || new Date()).getTime();
    if ((win.opens && t < Date.parse(win.opens)) || (win.closes && t > Date.parse(win.closes))) {
      result.status = "not_open";
      result.window = win;
      return result;
    }
    var mine = localMark(local, ticket.hash);
    if (mine) {
      result.status = "already_checked_in";
      result.first_checkin = { at: mine.at, by: mine.by || "этот телефон" };
      return result;
    }
    if (ticket.checked_in_at) {
      result.status = "already_checked_in";
      result.first_checkin = { at: ticket.checked_in_at, by: null };
      return result;
    }
    result.status = "ok";
    result.checkin = { id: null, at: (now || new Date()).toISOString() };
    return result;
  }

  /* The people of a group from scanner-data (for the group list when offline). */
  function groupOffline(index, groupHash, local) {
    var row = index && index.byGroup.get(groupHash);
    if (!row) { return null; }
    var school = row[1] === null || row[1] === undefined ? null : index.schools[row[1]];
    var people = row[2].map(function (i) {
      var t = ticketView(index, i);
      var mine = localMark(local, t.hash);
      return {
        code: "#" + t.hash, name: t.name, class_name: t.class_name, kind: t.kind,
        status: t.status, needs_assistance: t.needs_assistance,
        checked_in: !!(t.checked_in_at || mine)
      };
    });
    return { group: { organization: school ? school[1] : "", size: people.length }, tickets: people };
  }

  /* Search the downloaded tickets by surname (start of any word of the name) or school. */
  function searchOffline(index, query, local, limit) {
    var q = String(query || "").trim().toLowerCase().replace(/ё/g, "е");
    if (q.length < 2 || !index) { return []; }
    var found = [];
    for (var i = 0; i < index.tickets.length && found.length < (limit || 20); i++) {
      var t = ticketView(index, i);
      var name = String(t.name || "").toLowerCase().replace(/ё/g, "е");
      var school = String(t.organization || "").toLowerCase().replace(/ё/g, "е");
      var words = name.split(/\s+/);
      var hit = words.some(function (w) { return w.indexOf(q) === 0; }) || school.indexOf(q) >= 0;
      if (!hit) { continue; }
      var mine = localMark(local, t.hash);
      found.push({
        code: "#" + t.hash, name: t.name, class_name: t.class_name, kind: t.kind,
        status: t.status, needs_assistance: t.needs_assistance, organization: t.organization,
        checked_in: !!(t.checked_in_at || mine)
      });
    }
    return found;
  }

  function formatTime(iso, now) {
    if (!iso) { return ""; }
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return ""; }
    var time = new Intl.DateTimeFormat("ru-RU", { timeZone: TOMSK, hour: "2-digit", minute: "2-digit" }).format(d);
    var day = new Intl.DateTimeFormat("ru-RU", { timeZone: TOMSK, day: "2-digit", month: "2-digit", year: "numeric" });
    if (day.format(d) === day.format(now || new Date())) { return time; }
    return day.format(d) + " " + time;
  }

  var KIND_TITLES = { student: "обучающийся", teacher: "педагог", parent: "родитель" };

  function personLines(attendee) {
    if (!attendee) { return []; }
    var lines = [];
    var who = [];
    if (attendee.class_name) { who.push(attendee.class_name + " класс"); }
    else if (KIND_TITLES[attendee.kind] && attendee.kind !== "student") { who.push(KIND_TITLES[attendee.kind]); }
    if (attendee.organization) { who.push(attendee.organization); }
    if (who.length) { lines.push(who.join(" · ")); }
    return lines;
  }

  /* How an answer (server's or local) is shown: colour, big title, the person, details.
   * tone: "ok" (green), "warn" (amber: already checked in, or «нужна помощь»), "bad" (red). */
  function present(result, now) {
    var view = {
      tone: "bad", title: "", name: "", lines: [], details: [], assistance: false,
      offline: !!result.offline, status: result.status
    };
    var attendee = result.attendee || null;
    if (attendee) {
      view.name = attendee.name || "";
      view.lines = personLines(attendee);
      view.assistance = !!attendee.needs_assistance;
    }
    switch (result.status) {
      case "ok":
        view.tone = view.assistance ? "warn" : "ok";
        view.title = "Билет принят";
        if (result.offline) { view.details.push("Отмечено на телефоне, отправится при связи."); }
        break;
      case "already_checked_in":
        view.tone = "warn";
        view.title = "Уже отмечен";
        if (result.first_checkin) {
          var first = "Отмечен " + formatTime(result.first_checkin.at, now);
          if (result.first_checkin.by) { first += " · " + result.first_checkin.by; }
          view.details.push(first);
        }
        break;
      case "wrong_event":
        view.title = "Билет на другое мероприятие";
        if (result.ticket_event) {
          view.details.push("«" + result.ticket_event.title + "»" +
            (result.ticket_event.starts_at ? ", " + formatTime(result.ticket_event.starts_at, new Date(0)) : ""));
        }
        break;
      case "cancelled":
        view.title = "Регистрация отменена";
        view.details.push("Билет недействителен: запись отменена.");
        break;
      case "waitlisted":
        view.title = "В листе ожидания";
        view.details.push("Билет не подтверждён: человек в листе ожидания.");
        break;
      case "not_open":
        view.title = "Отметка сейчас закрыта";
        var win = result.window || null;
        if (!win && result.checkin_window) {
          win = { opens: result.checkin_window.opens_at, closes: result.checkin_window.closes_at };
        }
        if (win && win.opens && win.closes) {
          view.details.push("Вход открыт с " + formatTime(win.opens, now) + " до " + formatTime(win.closes, now) + ".");
        } else {
          view.details.push("Сейчас вне времени отметки на входе.");
        }
        break;
      case "invalid":
        view.title = "Неизвестный код";
        view.details.push(result.offline
          ? "Кода нет в данных телефона (офлайн). Он проверится при отправке на сервер."
          : "Такого билета нет. Проверьте, что это билет Профмаршрута.");
        break;
      case "pending":
        view.tone = "warn";
        view.title = "Ждёт подтверждения";
        view.details.push(result.message || "Записан(а) как новый участник. Отметка засчитается, когда организатор или школа подтвердит данные.");
        break;
      case "unknown_offline":
        view.tone = "warn";
        view.title = "Проверим при связи";
        view.details.push("Телефон офлайн и ещё не загрузил список билетов. Скан сохранён и будет отправлен на сервер.");
        break;
      default:
        view.title = result.title || "Не удалось проверить код";
        view.details.push(result.message || "Не удалось проверить код.");
    }
    if (view.assistance && (result.status === "ok" || result.status === "already_checked_in")) {
      view.details.unshift("Нужна помощь");
    }
    var flags = String(result.flag || "").split(",");
    if (flags.indexOf("clock_skew") >= 0) { view.details.push("Время телефона неверное: записано время сервера."); }
    if (flags.indexOf("late_sync") >= 0) { view.details.push("Получено после закрытия входа: организатор проверит эту отметку."); }
    if (flags.indexOf("late_sync_refused") >= 0) { view.details.push("Получено слишком поздно после закрытия входа: не засчитано."); }
    if (result.forced) { view.details.push("Отмечен вне окна отметки (принудительно)."); }
    return view;
  }

  /* Vibration pattern and tones (Hz, ms) per colour. */
  var SIGNALS = {
    ok: { vibrate: [90], tones: [[880, 120]] },
    warn: { vibrate: [90, 70, 90], tones: [[660, 110], [0, 60], [660, 110]] },
    bad: { vibrate: [350], tones: [[220, 350]] }
  };

  return {
    parseCode: parseCode,
    fixKeyboardLayout: fixKeyboardLayout,
    hashInput: hashInput,
    buildIndex: buildIndex,
    findTicket: findTicket,
    localKey: localKey,
    judgeOffline: judgeOffline,
    groupOffline: groupOffline,
    searchOffline: searchOffline,
    checkinWindow: checkinWindow,
    present: present,
    formatTime: formatTime,
    SIGNALS: SIGNALS
  };
});
