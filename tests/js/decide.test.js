// Unit tests of the scanner's decision and display module (run by tests/test_scanner_js.py).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const D = require("../../webapp/static/js/scanner/decide.js");

const h16 = (text) => crypto.createHash("sha256").update(text).digest("hex").slice(0, 16);

const NOW = new Date("2025-10-01T04:00:00Z");
function payload(overrides) {
  return Object.assign({
    event: { id: 7, title: "День открытых дверей", starts_at: "2025-10-01T05:00:00+00:00",
      ends_at: "2025-10-01T07:00:00+00:00", checkin_opens_at: null, checkin_closes_at: null },
    generated_at: "2025-10-01T03:55:00+00:00",
    valid_until: null,
    schools: [[12, "СОШ № 7"], [13, "Гимназия № 1"]],
    tickets: [
      [h16("tok-ok"), "confirmed", "Иванов Пётр", "7Б", 0, false, "student", null, h16("ABCDEFGH")],
      [h16("tok-help"), "confirmed", "Петрова Анна", "8А", 1, true, "student", null, h16("HJKMNPQR")],
      [h16("tok-in"), "confirmed", "Сидоров Иван", "9В", 0, false, "student", "2025-10-01T03:50:00+00:00", h16("STUVWXYZ")],
      [h16("tok-cancel"), "cancelled", "Кузнецова Мария", "7Б", 0, false, "student", null, h16("23456789")],
      [h16("tok-wait"), "waitlisted", "Орлов Олег", "7Б", 0, false, "student", null, h16("3456789A")],
      [h16("tok-parent"), "confirmed", "Смирнова Елена", null, null, false, "parent", null, h16("456789AB")]
    ],
    groups: [[h16("grp-1"), 0, [0, 2, 3]]]
  }, overrides || {});
}

function judge(code, local, now, data) {
  const index = D.buildIndex(data || payload());
  const parsed = D.parseCode(code);
  const input = parsed.type === "hash" ? null : D.hashInput(parsed);
  const hash = parsed.type === "hash" ? parsed.hash : (input ? h16(input) : null);
  return D.judgeOffline(index, parsed, hash, local || new Map(), now || NOW);
}

test("parseCode understands ticket URLs, raw tokens, short codes, group URLs and #hashes", () => {
  assert.deepEqual(D.parseCode("https://x.ru/t/AbC_-9?utm=1"), { type: "ticket", token: "AbC_-9", raw: "https://x.ru/t/AbC_-9?utm=1" });
  assert.equal(D.parseCode("  tokenXYZ123456789012345678901234 ").token, "tokenXYZ123456789012345678901234");
  assert.deepEqual(D.parseCode("abcd-efgh"), { type: "short", code: "ABCDEFGH", raw: "ABCDEFGH" });
  assert.equal(D.parseCode("http://h/g/Grp_1").type, "group");
  assert.equal(D.parseCode("http://h/g/Grp_1").code, "Grp_1");
  assert.deepEqual(D.parseCode("#0123456789ABCDEF"), { type: "hash", hash: "0123456789abcdef", raw: "#0123456789abcdef" });
  assert.equal(D.parseCode("   ").type, "empty");
});

test("a USB scanner typing with the Russian layout is read as the Latin code", () => {
  // "http://h/t/Tok" typed on the ЙЦУКЕН layout
  assert.equal(D.fixKeyboardLayout("реезЖ..р.е.Ещл"), "http://h/t/Tok");
  assert.equal(D.parseCode("реезЖ..р.е.Ещл").token, "Tok");
  assert.equal(D.fixKeyboardLayout("ABC-123"), "ABC-123");
});

test("offline: a confirmed ticket inside the window is ok, by token, URL or short code", () => {
  assert.equal(judge("tok-ok").status, "ok");
  assert.equal(judge("https://x/t/tok-ok").attendee.name, "Иванов Пётр");
  const byShort = judge("abcd efgh");
  assert.equal(byShort.status, "ok");
  assert.equal(byShort.attendee.organization, "СОШ № 7");
  assert.equal(byShort.offline, true);
});

test("offline: already checked in on this phone or known from the download", () => {
  const local = new Map([[h16("tok-ok"), { at: "2025-10-01T03:59:00Z", by: "этот телефон" }]]);
  const again = judge("tok-ok", local);
  assert.equal(again.status, "already_checked_in");
  assert.equal(again.first_checkin.by, "этот телефон");
  const known = judge("tok-in");
  assert.equal(known.status, "already_checked_in");
  assert.equal(known.first_checkin.at, "2025-10-01T03:50:00+00:00");
});

test("offline: cancelled, waitlisted, unknown and outside the window", () => {
  assert.equal(judge("tok-cancel").status, "cancelled");
  assert.equal(judge("tok-wait").status, "waitlisted");
  const unknown = judge("no-such-token");
  assert.equal(unknown.status, "invalid");
  assert.equal(unknown.attendee, null);
  // default window: from two hours before the start to the end
  assert.equal(judge("tok-ok", null, new Date("2025-10-01T02:59:00Z")).status, "not_open");
  assert.equal(judge("tok-ok", null, new Date("2025-10-01T03:01:00Z")).status, "ok");
  assert.equal(judge("tok-ok", null, new Date("2025-10-01T07:01:00Z")).status, "not_open");
  const own = payload();
  own.event.checkin_opens_at = "2025-10-01T04:30:00+00:00";
  assert.equal(judge("tok-ok", null, NOW, own).status, "not_open");
});

test("offline: a #hash from a list is judged like the QR itself", () => {
  assert.equal(judge("#" + h16("tok-help")).status, "ok");
});

test("present: colours and texts of every outcome", () => {
  const ok = D.present(judge("tok-ok"), NOW);
  assert.equal(ok.tone, "ok");
  assert.equal(ok.title, "Билет принят");
  assert.deepEqual(ok.lines, ["7Б класс · СОШ № 7"]);
  assert.ok(ok.offline);
  const help = D.present(judge("tok-help"), NOW);
  assert.equal(help.tone, "warn");
  assert.equal(help.details[0], "Нужна помощь");
  const already = D.present({ status: "already_checked_in", attendee: { name: "А" },
    first_checkin: { at: "2025-10-01T03:50:00Z", by: "Вход 2" } }, NOW);
  assert.equal(already.tone, "warn");
  assert.equal(already.details[0], "Отмечен 10:50 · Вход 2");  // Asia/Tomsk is UTC+7
  const wrong = D.present({ status: "wrong_event", ticket_event: { id: 2, title: "Другое", starts_at: "2025-10-02T05:00:00Z" } }, NOW);
  assert.equal(wrong.tone, "bad");
  assert.match(wrong.details[0], /«Другое», 02\.10\.2025 12:00/);
  assert.equal(D.present({ status: "cancelled" }).tone, "bad");
  assert.equal(D.present({ status: "waitlisted" }).title, "В листе ожидания");
  const closed = D.present({ status: "not_open", checkin_window: { opens_at: "2025-10-01T03:00:00Z", closes_at: "2025-10-01T07:00:00Z" } }, NOW);
  assert.equal(closed.details[0], "Вход открыт с 10:00 до 14:00.");
  assert.match(D.present({ status: "invalid", offline: true }).details[0], /офлайн/);
  assert.equal(D.present({ status: "unknown_offline", offline: true }).tone, "warn");
  const parent = D.present(judge("tok-parent"), NOW);
  assert.deepEqual(parent.lines, ["родитель"]);
});

test("present: a walk-in waiting for confirmation and late syncs", () => {
  const pending = D.present({ status: "pending", message: "Ждёт организатора.",
    attendee: { name: "Новиков Илья", kind: "student", class_name: "5А", organization: "СОШ № 7" } }, NOW);
  assert.equal(pending.tone, "warn");
  assert.equal(pending.title, "Ждёт подтверждения");
  assert.equal(pending.name, "Новиков Илья");
  assert.deepEqual(pending.details, ["Ждёт организатора."]);
  const late = D.present({ status: "ok", flag: "clock_skew,late_sync", attendee: { name: "А" } }, NOW);
  assert.equal(late.tone, "ok");
  assert.deepEqual(late.details, ["Время телефона неверное: записано время сервера.",
    "Получено после закрытия входа: организатор проверит эту отметку."]);
  const refused = D.present({ status: "not_open", flag: "late_sync_refused" }, NOW);
  assert.equal(refused.tone, "bad");
  assert.match(refused.details[refused.details.length - 1], /слишком поздно/);
});

test("group list and search from the downloaded data", () => {
  const index = D.buildIndex(payload());
  const local = new Map([[h16("tok-ok"), { at: "x" }]]);
  const group = D.groupOffline(index, h16("grp-1"), local);
  assert.equal(group.group.organization, "СОШ № 7");
  assert.deepEqual(group.tickets.map((t) => [t.name, t.checked_in, t.status]), [
    ["Иванов Пётр", true, "confirmed"], ["Сидоров Иван", true, "confirmed"],
    ["Кузнецова Мария", false, "cancelled"]]);
  assert.equal(group.tickets[0].code, "#" + h16("tok-ok"));
  assert.equal(D.groupOffline(index, h16("nope"), local), null);
  assert.deepEqual(D.searchOffline(index, "петров", null).map((t) => t.name), ["Петрова Анна"]);
  assert.equal(D.searchOffline(index, "гимназия", null).length, 1);
  assert.deepEqual(D.searchOffline(index, "п", null), []);
});

/* The phone's memory as app.js keeps it: a check-in is remembered under D.localKey(...). */
function scanTwice(first, second, data) {
  const index = data === null ? null : D.buildIndex(data || payload());
  const local = new Map();
  const read = (code) => {
    const parsed = D.parseCode(code);
    const input = parsed.type === "hash" ? null : D.hashInput(parsed);
    const hash = parsed.type === "hash" ? parsed.hash : (input ? h16(input) : null);
    const result = D.judgeOffline(index, parsed, hash, local, NOW);
    if (result.status === "ok" || result.status === "unknown_offline") {
      local.set(result.localKey, { at: NOW.toISOString(), by: "этот телефон" });
    }
    return result;
  };
  return { one: read(first), two: read(second), local, index };
}

test("offline memory: the same ticket typed twice is «Уже отмечен» with when (issue #20)", () => {
  const typed = scanTwice("abcd-efgh", "ABCDEFGH");
  assert.equal(typed.one.status, "ok");
  assert.equal(typed.two.status, "already_checked_in");
  assert.deepEqual(typed.two.first_checkin, { at: NOW.toISOString(), by: "этот телефон" });
  const view = D.present(typed.two, NOW);
  assert.equal(view.tone, "warn");
  assert.equal(view.title, "Уже отмечен");
  assert.equal(view.details[0], "Отмечен 11:00 · этот телефон");
  // one person however the ticket was read: short code, then its QR, its #hash or a search hit
  assert.equal(scanTwice("abcdefgh", "https://x/t/tok-ok").two.status, "already_checked_in");
  assert.equal(scanTwice("https://x/t/tok-ok", "ABCD EFGH").two.status, "already_checked_in");
  assert.equal(scanTwice("abcdefgh", "#" + h16("tok-ok")).two.status, "already_checked_in");
  assert.equal(typed.one.localKey, h16("tok-ok"));
});

test("offline memory: search and the group list show a mark made by typing the short code", () => {
  const typed = scanTwice("ABCDEFGH", "HJKMNPQR");
  const found = D.searchOffline(typed.index, "иванов", typed.local);
  assert.deepEqual(found.map((t) => [t.name, t.checked_in]), [["Иванов Пётр", true]]);
  const group = D.groupOffline(typed.index, h16("grp-1"), typed.local);
  assert.equal(group.tickets[0].checked_in, true);
});

test("offline memory: before any download a repeated code is remembered, not sent as new", () => {
  const blind = scanTwice("ABCDEFGH", "abcd efgh", null);
  assert.equal(blind.one.status, "unknown_offline");
  assert.equal(blind.two.status, "already_checked_in");
  assert.equal(blind.two.first_checkin.by, "этот телефон");
  assert.equal(D.present(blind.two, NOW).title, "Уже отмечен");
  // a code the download does not know stays unknown, and is not remembered as a check-in
  const unknown = scanTwice("no-such-token", "no-such-token");
  assert.equal(unknown.two.status, "invalid");
});

test("localKey: the ticket's hash when the data knows it, else what was read", () => {
  const index = D.buildIndex(payload());
  assert.equal(D.localKey(index, D.parseCode("ABCDEFGH"), h16("ABCDEFGH")), h16("tok-ok"));
  assert.equal(D.localKey(null, D.parseCode("ABCDEFGH"), h16("ABCDEFGH")), h16("ABCDEFGH"));
  assert.equal(D.localKey(index, D.parseCode("#" + h16("x")), null), h16("x"));
  assert.equal(D.localKey(index, D.parseCode("zzz"), h16("zzz")), h16("zzz"));
});
