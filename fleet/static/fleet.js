// The fleet screen's little behaviour beside htmx (the CSRF header is common/static/csrf.js):
// the door whose panel is shown stays marked on a front that is redrawn live.
(function () {
  "use strict";

  function markSelected() {
    var panel = document.querySelector("[data-compartment-detail]");
    document.querySelectorAll(".front button.door").forEach(function (door) {
      door.classList.toggle(
        "selected", !!panel && door.dataset.compartment === panel.dataset.compartmentDetail);
    });
  }
  document.addEventListener("htmx:afterSettle", markSelected);
})();
