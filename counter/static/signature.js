/* Signature pad: a canvas drawn on with a finger, a stylus or the mouse (Pointer Events cover
 * all three). SignaturePad.create(container) -> {canvas, isEmpty(), clear(), dataURL()} */
(function () {
  "use strict";

  function create(container) {
    const canvas = document.createElement("canvas");
    canvas.className = "sig-canvas";
    canvas.width = 900;
    canvas.height = 300;
    container.appendChild(canvas);
    const ctx = canvas.getContext("2d");
    let drawing = false;
    let empty = true;
    let last = null;

    function reset() {
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.lineWidth = 4;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
      empty = true;
    }

    function point(e) {
      const r = canvas.getBoundingClientRect();
      return {
        x: (e.clientX - r.left) * (canvas.width / r.width),
        y: (e.clientY - r.top) * (canvas.height / r.height),
      };
    }

    canvas.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      drawing = true;
      last = point(e);
      ctx.beginPath();
      ctx.arc(last.x, last.y, 1.5, 0, Math.PI * 2);
      ctx.fillStyle = "#111";
      ctx.fill();
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!drawing) return;
      e.preventDefault();
      const p = point(e);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
      empty = false;
    });
    const stop = () => { drawing = false; };
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    reset();
    return {
      canvas,
      isEmpty: () => empty,
      clear: reset,
      dataURL: () => canvas.toDataURL("image/png"),
    };
  }

  window.SignaturePad = {create};
})();
