// Live board: polls /api/v1/events/<id>/live and redraws the counts without a reload.
(function () {
  "use strict";
  var root = document.getElementById("board");
  if (!root) { return; }
  var url = root.getAttribute("data-live-url");
  var interval = parseInt(root.getAttribute("data-interval"), 10) || 5000;
  var fmt = new Intl.NumberFormat("ru-RU");
  // The bar's first width comes from the page (data-width; no inline style under the CSP).
  var bar = root.querySelector("[data-progress] [data-width]");
  if (bar) { bar.style.width = bar.getAttribute("data-width") + "%"; }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function setText(selector, text) {
    var node = root.querySelector(selector);
    if (node && node.textContent !== text) { node.textContent = text; }
  }

  function render(data) {
    setText("[data-checked-in]", fmt.format(data.checked_in));
    setText("[data-registered]", fmt.format(data.registered));
    var pct = data.registered ? Math.min(100, data.checked_in * 100 / data.registered) : 0;
    var progress = root.querySelector("[data-progress]");
    progress.setAttribute("aria-valuenow", String(Math.round(pct)));
    progress.firstElementChild.style.width = pct.toFixed(1) + "%";

    var gates = root.querySelector("[data-by-gate]");
    gates.replaceChildren();
    if (!data.by_gate.length) { gates.appendChild(el("li", "text-body-secondary", "Пока никого.")); }
    data.by_gate.forEach(function (g) {
      var li = el("li");
      li.appendChild(el("strong", null, fmt.format(g.checked_in)));
      li.appendChild(document.createTextNode(" — " + g.gate));
      gates.appendChild(li);
    });

    var schools = root.querySelector("[data-by-school]");
    schools.replaceChildren();
    if (!data.by_school.length) {
      var empty = el("tr");
      var td = el("td", "text-body-secondary", "Записей пока нет.");
      td.colSpan = 3;
      empty.appendChild(td);
      schools.appendChild(empty);
    }
    data.by_school.forEach(function (row) {
      var tr = el("tr");
      tr.appendChild(el("td", null, row.organization));
      tr.appendChild(el("td", "text-end", fmt.format(row.registered)));
      tr.appendChild(el("td", "text-end", fmt.format(row.checked_in)));
      schools.appendChild(tr);
    });

    var latest = root.querySelector("[data-latest]");
    latest.replaceChildren();
    if (!data.latest.length) {
      latest.appendChild(el("li", "list-group-item text-body-secondary", "Сканирований пока не было."));
    }
    data.latest.forEach(function (s) {
      var li = el("li", "list-group-item d-flex justify-content-between gap-2");
      var left = el("span");
      left.appendChild(el("strong", null, s.name));
      if (s.organization) { left.appendChild(document.createTextNode(", " + s.organization)); }
      left.appendChild(el("br"));
      var note = s.status_title + (s.undone ? " (отменена)" : "") + (s.gate ? " · " + s.gate : "");
      left.appendChild(el("small", "text-body-secondary", note));
      li.appendChild(left);
      li.appendChild(el("small", "text-nowrap", s.time));
      latest.appendChild(li);
    });
    setText("[data-updated]", "данные на " + data.generated_time);
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(render)
      .catch(function () {
        setText("[data-updated]", "нет связи с сервером, пробуем ещё раз…");
      })
      .then(function () { window.setTimeout(poll, interval); });
  }
  window.setTimeout(poll, interval);
})();
