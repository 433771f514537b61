/* On the "link expired / revoked / unknown" page: forget that link's offline ticket data. */
(function () {
  "use strict";
  var el = document.getElementById("scanner-wipe");
  if (el && window.ScannerStore && window.indexedDB) {
    window.ScannerStore.wipe(el.dataset.scope, false).catch(function () { /* nothing stored */ });
  }
})();
