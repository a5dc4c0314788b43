/* Interactive figures of the book (see _ext/adamedu_figures.py): each control switches among
   precomputed frames. No network, no globals; without this script the default frame shows. */
(function () {
  "use strict";

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  function setup(root) {
    var specNode = root.querySelector("script.adamedu-frames");
    if (!specNode || root.getAttribute("data-ready")) { return; }
    root.setAttribute("data-ready", "1");
    var spec = JSON.parse(specNode.textContent);
    var inputs = root.querySelectorAll("[data-control]");
    var readout = root.querySelector(".adamedu-readout");

    function position(el) { return el.type === "checkbox" ? (el.checked ? 1 : 0) : +el.value; }
    function key() { return Array.prototype.map.call(inputs, position).join("-"); }
    function describe() {
      var parts = [];
      each(inputs, function (el, i) { parts.push(spec.names[i] + " = " + spec.labels[i][position(el)]); });
      return spec.title + " at " + parts.join(", ");
    }

    function draw() {
      var frame = spec.frames[key()];
      if (!frame) { return; }
      var bg = frame[0], refs = frame[1], text = frame[2] === null ? "" : spec.readouts[frame[2]];
      each(root.querySelectorAll(".adamedu-layout"), function (layout) {
        var name = layout.classList.contains("adamedu-narrow") ? "narrow" : "wide";
        each(layout.querySelectorAll("g.adamedu-bg"), function (g) {
          g.style.display = g.getAttribute("data-bg") === bg ? "" : "none";
        });
        var boxes = spec.panels[name][bg];
        each(layout.querySelectorAll("svg.adamedu-panel"), function (panel) {
          var box = boxes[+panel.getAttribute("data-panel")];
          panel.setAttribute("x", box[0]); panel.setAttribute("y", box[1]);
          panel.setAttribute("width", box[2]); panel.setAttribute("height", box[3]);
        });
        each(layout.querySelectorAll("path.adamedu-track"), function (path) {
          var d = spec.paths[refs[+path.getAttribute("data-track")]];
          path.setAttribute("d", path.getAttribute("data-part") === "dots" ? d[1] : d[0]);
        });
        layout.querySelector("svg.adamedu-plot").setAttribute("aria-label", describe());
      });
      if (readout) {
        readout.textContent = "";
        each(text ? text.split("\n") : [], function (line) {
          var span = document.createElement("span");
          span.textContent = line;
          readout.appendChild(span);
        });
      }
    }

    each(inputs, function (el) {
      el.disabled = false;
      var update = function () {
        var i = +el.getAttribute("data-control");
        var text = spec.labels[i][position(el)];
        var out = root.querySelector("output[for='" + el.id + "']");
        if (out) { out.textContent = text; }
        if (el.type === "range") { el.setAttribute("aria-valuetext", text); }
        draw();
      };
      el.addEventListener("input", update);
      el.addEventListener("change", update);
    });
  }

  function init() { each(document.querySelectorAll(".adamedu-interactive"), setup); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); }
  else { init(); }
})();
