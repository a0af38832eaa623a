// The fleet screen's little behaviour beside htmx: every htmx request of a signed-in
// operator carries the CSRF header, copied from the cookie only the hub's pages can read;
// the door whose panel is shown stays marked on a front that is redrawn live.
(function () {
  "use strict";

  function cookie(name) {
    var found = document.cookie.split("; ").find(function (c) {
      return c.indexOf(name + "=") === 0;
    });
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var token = cookie("hub_csrf");
    if (token) {
      event.detail.headers["X-CSRF-Token"] = token;
    }
  });

  function markSelected() {
    var panel = document.querySelector("[data-compartment-detail]");
    document.querySelectorAll(".front button.door").forEach(function (door) {
      door.classList.toggle(
        "selected", !!panel && door.dataset.compartment === panel.dataset.compartmentDetail);
    });
  }
  document.addEventListener("htmx:afterSettle", markSelected);
})();
