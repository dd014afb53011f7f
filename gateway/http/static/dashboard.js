// /dashboard: refresh the panels in place every minute (the page works without this script).
(function () {
  "use strict";
  var main = document.getElementById("panels");
  if (!main) { return; }
  var seconds = parseInt(main.getAttribute("data-refresh-seconds") || "60", 10);
  function refresh() {
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected || !response.ok) { window.location.reload(); return null; }
        return response.text();
      })
      .then(function (text) {
        if (!text) { return; }
        var fresh = new DOMParser().parseFromString(text, "text/html");
        var panels = fresh.getElementById("panels");
        var generated = fresh.getElementById("generated");
        if (panels) { main.replaceChildren.apply(main, Array.prototype.slice.call(panels.childNodes)); }
        var mine = document.getElementById("generated");
        if (generated && mine) { mine.replaceWith(generated); }
      })
      .catch(function () { /* the server is away: keep what is shown, try again later */ });
  }
  window.setInterval(refresh, Math.max(10, seconds) * 1000);
}());
