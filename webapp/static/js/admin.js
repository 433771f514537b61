// Admin pages: ask before destructive POST buttons (forms with data-confirm), and move focus
// to an error summary or a newly shown token so screen-reader and keyboard users land on it.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var holder = (submitter && submitter.form && submitter.getAttribute("form"))
      ? submitter.form : form;
    var question = holder.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  var target = document.querySelector("[data-error-summary], [data-new-token]");
  if (target) {
    target.focus();
  }
})();
