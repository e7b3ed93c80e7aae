// kv-emulator web view: keep the page current while the server works, and show secret values on request.
// The pages read fine without this script; it only polls live.json (about every 2 s) and, when the
// emulator changed, fetches this same page again and swaps its <main> in place.
(function () {
  "use strict";
  var stamp = null;
  var busy = false;

  function revealed() {
    return document.querySelector(".secret-value") !== null;
  }

  function editing() {
    var el = document.activeElement;
    return el && (el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA");
  }

  function refresh() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        if (text === null) { return; }
        var fresh = new DOMParser().parseFromString(text, "text/html").querySelector("main");
        var main = document.querySelector("main");
        if (fresh && main) { main.innerHTML = fresh.innerHTML; }
        document.documentElement.setAttribute("data-refreshed", String(Date.now()));
      })
      .finally(function () { busy = false; });
  }

  function poll() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(window.location.pathname.replace(/\/_kv\/ui\/.*$/, "/_kv/ui/live.json"),
          { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data === null) { busy = false; return; }
        var changed = stamp !== null && data.stamp !== stamp;
        stamp = data.stamp;
        if (changed && !editing() && !revealed()) { refresh(); } else { busy = false; }
      })
      .catch(function () { busy = false; });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.show-secret") : null;
    if (!link) { return; }
    event.preventDefault();
    fetch(link.getAttribute("href"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (value) {
        var span = document.createElement("span");
        span.className = "secret-value";
        span.textContent = value;
        link.replaceWith(span);
      });
  });

  window.setInterval(poll, 2000);
  poll();
})();
