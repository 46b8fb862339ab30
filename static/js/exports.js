/* Export progress: poll each running export's status URL once a second and update its
   progress bar, status badge, expiry and download link in place. No libraries. */
(function () {
  "use strict";

  function set(el, role, fn) {
    var node = el.querySelector('[data-role="' + role + '"]');
    if (node) { fn(node); }
  }

  function update(el, d) {
    set(el, "progress", function (n) { n.value = d.progress; n.textContent = d.progress + "%"; });
    set(el, "percent", function (n) { n.textContent = d.progress + "%"; });
    set(el, "rows", function (n) {
      n.textContent = n.textContent.replace(/\d[\d,]*(\D+)\d[\d,]*/, d.rows_done + "$1" + d.rows_total);
    });
    set(el, "status", function (n) {
      n.className = "badge badge-" + d.status;
      n.textContent = d.status_display;
    });
    set(el, "expires", function (n) { n.textContent = d.expires_display || "—"; });
    set(el, "download", function (n) {
      if (d.downloadable) {
        var a = document.createElement("a");
        a.href = d.download_url;
        a.textContent = d.download_label;
        if (n.classList.contains("actions")) { a.className = "button primary"; }
        n.replaceChildren(a);
      } else if (d.error) {
        var s = document.createElement("span");
        s.className = "muted";
        s.textContent = d.error;
        n.replaceChildren(s);
      }
    });
  }

  function poll(el) {
    fetch(el.getAttribute("data-export-status"), {
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (d) {
      if (!d) { return; }
      update(el, d);
      if (d.active) { window.setTimeout(function () { poll(el); }, 1000); }
    }).catch(function () {
      window.setTimeout(function () { poll(el); }, 5000);
    });
  }

  document.querySelectorAll('[data-export-status][data-active="1"]').forEach(function (el) {
    window.setTimeout(function () { poll(el); }, 1000);
  });
})();
