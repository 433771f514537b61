/* Decodes QR codes off the main thread with the vendored jsQR (no CDN). */
/* global jsQR */
"use strict";
importScripts("../../vendor/jsqr-1.4.0/jsQR.js");

self.onmessage = function (event) {
  var msg = event.data;
  var text = null;
  try {
    var pixels = new Uint8ClampedArray(msg.buffer);
    var found = jsQR(pixels, msg.width, msg.height, { inversionAttempts: msg.invert ? "attemptBoth" : "dontInvert" });
    text = found && found.data ? found.data : null;
  } catch (err) {
    text = null;
  }
  self.postMessage({ id: msg.id, text: text });
};
