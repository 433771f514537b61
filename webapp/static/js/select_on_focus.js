// Read-only fields marked data-select-on-focus (a private link to copy) select their whole
// text when clicked or focused, ready to copy.
(function () {
  "use strict";
  document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
    function selectAll() { input.select(); }
    input.addEventListener("click", selectAll);
    input.addEventListener("focus", selectAll);
  });
})();
