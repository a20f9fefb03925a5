// Scans a container label's QR code with the phone's camera where the
// browser has the BarcodeDetector API, then submits the same form a person
// would type into; without it (or without a camera) the form stays as it is.
(function () {
  "use strict";
  var start = document.getElementById("scan-start");
  var form = document.getElementById("scan-form");
  if (!start || !form || !("BarcodeDetector" in window) || !navigator.mediaDevices ||
      !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var video = document.getElementById("scan-video");
  var status = document.getElementById("scan-status");
  var input = form.querySelector('input[name="digital_id"]');
  var label = start.textContent;
  var stream = null;
  var timer = 0;
  // A label's QR code holds the address …/l/{digital id}; a bare id is taken too.
  var idRe = /(?:\/l\/)?([0-9A-Z]{18}[0-9]{19})(?:[/?#]|$)/i;

  function stop() {
    clearTimeout(timer);
    if (stream) {
      stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
    }
    video.hidden = true;
    video.srcObject = null;
    start.textContent = label;
  }

  function fail() {
    stop();
    status.textContent = start.dataset.error;
  }

  BarcodeDetector.getSupportedFormats().then(function (formats) {
    if (formats.indexOf("qr_code") < 0) {
      return;
    }
    var detector = new BarcodeDetector({ formats: ["qr_code"] });
    start.hidden = false;

    function look() {
      detector.detect(video).then(function (codes) {
        for (var i = 0; i < codes.length; i++) {
          var m = idRe.exec(codes[i].rawValue || "");
          if (m) {
            input.value = m[1].toUpperCase();
            stop();
            form.requestSubmit();
            return;
          }
        }
        timer = setTimeout(look, 250);
      }, function () { timer = setTimeout(look, 500); });
    }

    start.addEventListener("click", function () {
      if (stream) {
        stop();
        status.textContent = "";
        return;
      }
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        start.textContent = start.dataset.stop;
        status.textContent = start.dataset.looking;
        return video.play().then(look);
      }).catch(fail);
    });
  }, function () {});

  window.addEventListener("pagehide", stop);
})();
