// Shows the CTCAE grade definitions of the term typed / picked in the AE form.
(function () {
  "use strict";
  var input = document.getElementById("id_ctcae_term");
  var data = document.getElementById("ctcae-grades");
  if (!input || !data) { return; }
  var grades = JSON.parse(data.textContent);
  function show() {
    var rows = grades[input.value];
    if (!rows) { return; }
    document.querySelectorAll("#grade-definitions dd[data-grade]").forEach(function (dd) {
      dd.textContent = rows[dd.getAttribute("data-grade")] || "";
    });
  }
  input.addEventListener("change", show);
  input.addEventListener("input", show);
})();
