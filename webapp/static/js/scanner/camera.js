/* Профмаршрут scanner: the camera. getUserMedia, continuous decoding (BarcodeDetector where the
 * browser has it, otherwise jsQR in a Web Worker), camera switch and torch where supported. */
(function (root) {
  "use strict";

  var MAX_SIDE = 640;        // frames are scaled down to this before decoding
  var INTERVAL_MS = 90;      // pause between decode attempts

  function ScannerCamera(options) {
    this.video = options.video;
    this.onCode = options.onCode;
    this.onStatus = options.onStatus || function () {};
    this.workerUrl = options.workerUrl;
    this.stream = null;
    this.devices = [];
    this.deviceIndex = -1;
    this.running = false;
    this.busy = false;
    this.frame = 0;
    this.detector = null;
    this.worker = null;
    this.pending = null;
    this.canvas = document.createElement("canvas");
    this.ctx = this.canvas.getContext("2d", { willReadFrequently: true });
    this.torchOn = false;
  }

  ScannerCamera.prototype.supported = function () {
    return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  };

  ScannerCamera.prototype._decoder = async function () {
    if (this.detector || this.worker) { return; }
    if ("BarcodeDetector" in root) {
      try {
        var formats = await root.BarcodeDetector.getSupportedFormats();
        if (formats.indexOf("qr_code") >= 0) {
          this.detector = new root.BarcodeDetector({ formats: ["qr_code"] });
          return;
        }
      } catch (err) { /* fall back to jsQR */ }
    }
    var self = this;
    this.worker = new Worker(this.workerUrl);
    this.worker.onmessage = function (event) {
      if (self.pending && self.pending.id === event.data.id) {
        var done = self.pending.resolve;
        self.pending = null;
        done(event.data.text);
      }
    };
  };

  ScannerCamera.prototype.start = async function (deviceId) {
    if (!this.supported()) {
      this.onStatus("unsupported");
      return false;
    }
    await this._decoder();
    this.stop();
    var constraints = { audio: false, video: deviceId
      ? { deviceId: { exact: deviceId } }
      : { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } } };
    try {
      this.stream = await navigator.mediaDevices.getUserMedia(constraints);
    } catch (err) {
      this.onStatus(err && err.name === "NotAllowedError" ? "denied" : "unavailable");
      return false;
    }
    this.video.srcObject = this.stream;
    this.video.setAttribute("playsinline", "");
    this.video.muted = true;
    try { await this.video.play(); } catch (err) { /* autoplay of a muted stream is allowed */ }
    try {
      var all = await navigator.mediaDevices.enumerateDevices();
      this.devices = all.filter(function (d) { return d.kind === "videoinput"; });
      var track = this.track();
      var settings = track && track.getSettings ? track.getSettings() : {};
      this.deviceIndex = this.devices.findIndex(function (d) { return d.deviceId === settings.deviceId; });
    } catch (err) { this.devices = []; }
    this.torchOn = false;
    this.running = true;
    this.onStatus("running");
    this._loop();
    return true;
  };

  ScannerCamera.prototype.track = function () {
    return this.stream ? this.stream.getVideoTracks()[0] : null;
  };

  ScannerCamera.prototype.canSwitch = function () { return this.devices.length > 1; };

  ScannerCamera.prototype.switchCamera = function () {
    if (!this.canSwitch()) { return Promise.resolve(false); }
    var next = this.devices[(this.deviceIndex + 1) % this.devices.length];
    return this.start(next.deviceId);
  };

  ScannerCamera.prototype.hasTorch = function () {
    var track = this.track();
    if (!track || !track.getCapabilities) { return false; }
    try { return !!track.getCapabilities().torch; } catch (err) { return false; }
  };

  ScannerCamera.prototype.toggleTorch = async function () {
    var track = this.track();
    if (!track) { return false; }
    var want = !this.torchOn;
    await track.applyConstraints({ advanced: [{ torch: want }] });
    this.torchOn = want;
    return want;
  };

  ScannerCamera.prototype.stop = function () {
    this.running = false;
    if (this.stream) {
      this.stream.getTracks().forEach(function (t) { t.stop(); });
      this.stream = null;
    }
  };

  ScannerCamera.prototype._loop = function () {
    var self = this;
    if (!self.running) { return; }
    setTimeout(async function () {
      if (!self.running) { return; }
      if (!self.busy && self.video.readyState >= 2 && !document.hidden) {
        self.busy = true;
        try {
          var text = await self._decodeFrame();
          if (text) { self.onCode(text); }
        } catch (err) { /* a bad frame: try the next one */ }
        self.busy = false;
      }
      self._loop();
    }, INTERVAL_MS);
  };

  ScannerCamera.prototype._decodeFrame = async function () {
    var video = this.video;
    if (this.detector) {
      var codes = await this.detector.detect(video);
      return codes.length ? codes[0].rawValue : null;
    }
    var w = video.videoWidth;
    var h = video.videoHeight;
    if (!w || !h) { return null; }
    var scale = Math.min(1, MAX_SIDE / Math.max(w, h));
    var cw = Math.round(w * scale);
    var ch = Math.round(h * scale);
    if (this.canvas.width !== cw) { this.canvas.width = cw; }
    if (this.canvas.height !== ch) { this.canvas.height = ch; }
    this.ctx.drawImage(video, 0, 0, cw, ch);
    var image = this.ctx.getImageData(0, 0, cw, ch);
    var self = this;
    this.frame += 1;
    var id = this.frame;
    return new Promise(function (resolve) {
      self.pending = { id: id, resolve: resolve };
      // Light-on-dark codes (a phone screen in dark mode) are tried on every third frame.
      self.worker.postMessage({ id: id, width: cw, height: ch, buffer: image.data.buffer, invert: id % 3 === 0 },
        [image.data.buffer]);
      setTimeout(function () {
        if (self.pending && self.pending.id === id) { self.pending = null; resolve(null); }
      }, 1500);
    });
  };

  root.ScannerCamera = ScannerCamera;
})(typeof self !== "undefined" ? self : this);
