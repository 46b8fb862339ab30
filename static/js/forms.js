// Progressive forms (CSP-safe: no inline script). A checkbox with data-toggles="<key>"
// shows the sections marked data-shown-by="<key>" only while it is ticked. Without
// JavaScript every section stays visible; a section with an error or a value is
// never hidden.
(function () {
  "use strict";
  function sync(box) {
    var key = box.getAttribute("data-toggles");
    var sections = document.querySelectorAll('[data-shown-by="' + key + '"]');
    Array.prototype.forEach.call(sections, function (section) {
      var keep = section.querySelector(".has-error") !== null;
      section.hidden = !box.checked && !keep;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("input[type=checkbox][data-toggles]");
    Array.prototype.forEach.call(boxes, function (box) {
      sync(box);
      box.addEventListener("change", function () { sync(box); });
    });
  });
})();
