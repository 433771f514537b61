/* School coordinator pages: confirmations, whole-class selection, a live selection count.
   Everything works without this script too (the server expands «Весь класс»). */
(function () {
  "use strict";

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  var summary = document.querySelector("[data-selection-summary]");
  var seats = document.getElementById("seats");
  var canConfirm = seats ? parseInt(seats.getAttribute("data-can-confirm"), 10) : 0;

  function updateSummary() {
    if (!summary) { return; }
    var picked = document.querySelectorAll("input[data-person]:checked:not(:disabled)").length;
    if (!picked) { summary.textContent = ""; return; }
    var confirmed = Math.min(picked, canConfirm);
    var waiting = picked - confirmed;
    summary.textContent = "Выбрано: " + picked + ". Будет подтверждено: " + confirmed +
      (waiting ? ", в лист ожидания: " + waiting : "") + ".";
  }

  document.querySelectorAll("input[data-whole-class]").forEach(function (box) {
    var fieldset = box.closest("fieldset");
    box.addEventListener("change", function () {
      fieldset.querySelectorAll("input[data-person]:not(:disabled)").forEach(function (p) {
        p.checked = box.checked;
      });
      updateSummary();
    });
    fieldset.querySelectorAll("input[data-person]").forEach(function (p) {
      p.addEventListener("change", function () {
        if (!p.checked) { box.checked = false; }
        updateSummary();
      });
    });
  });
  document.querySelectorAll("input[data-person]").forEach(function (p) {
    p.addEventListener("change", updateSummary);
  });

  var filter = document.querySelector("[data-class-filter]");
  if (filter) {
    filter.hidden = false;
    filter.querySelector("select").addEventListener("change", function (event) {
      var value = event.target.value;
      document.querySelectorAll("fieldset[data-class]").forEach(function (fs) {
        fs.hidden = !!value && fs.getAttribute("data-class") !== value;
        var oneByOne = fs.querySelector("details");
        if (oneByOne && value && !fs.hidden) { oneByOne.open = true; }
      });
    });
  }

  // When a form comes back with errors, move focus to the summary (GOV.UK pattern).
  var errors = document.querySelector("[data-error-summary]");
  if (errors) { errors.focus(); }
  updateSummary();
})();
