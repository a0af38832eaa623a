// Every htmx request of a signed-in screen carries the session's CSRF token, copied from
// the cookie that only the screens' own pages can read. The script tag names the cookie
// (data-csrf-cookie): the station's courier screen has a session of its own beside the
// maintenance screens' one, the hub's screen another.
(function () {
  "use strict";

  var name = document.currentScript.dataset.csrfCookie;

  function cookie() {
    var found = document.cookie.split("; ").find(function (c) {
      return c.indexOf(name + "=") === 0;
    });
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var token = cookie();
    if (token) {
      event.detail.headers["X-CSRF-Token"] = token;
    }
  });
})();
