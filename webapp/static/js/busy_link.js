// Links marked data-busy-text (a file the server takes a moment to make, such as the справка's
// PDF): once clicked, the link says so («PDF готовится…») with a spinner, is marked
// aria-busy and ignores further clicks until the file arrives and the page is left. When the
// browser brings the page back from its cache (Back), the link is as before.
(function () {
  "use strict";
  document.querySelectorAll("a[data-busy-text]").forEach(function (link) {
    var idle = Array.prototype.slice.call(link.childNodes);
    var status = document.getElementById(link.getAttribute("data-busy-status") || "");

    function reset() {
      link.removeAttribute("aria-busy");
      link.classList.remove("disabled");
      link.replaceChildren.apply(link, idle);
      if (status) { status.textContent = ""; }
    }

    link.addEventListener("click", function (event) {
      if (link.getAttribute("aria-busy") === "true") {
        event.preventDefault();
        return;
      }
      var spinner = document.createElement("span");
      spinner.className = "spinner-border spinner-border-sm me-2";
      spinner.setAttribute("aria-hidden", "true");
      link.replaceChildren(spinner, document.createTextNode(link.getAttribute("data-busy-text")));
      link.setAttribute("aria-busy", "true");
      link.classList.add("disabled");
      if (status) { status.textContent = link.getAttribute("data-busy-text"); }
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) { reset(); }
    });
  });
})();
