// A form came back with errors: move focus to the error summary so screen-reader and keyboard
// users hear what to fix first (GOV.UK pattern). A file, not an inline script: the pages run
// under a Content-Security-Policy without 'unsafe-inline'.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
})();
