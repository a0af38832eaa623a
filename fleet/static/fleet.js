// The fleet screen's little behaviour beside htmx (the CSRF header is common/static/csrf.js):
// the door whose panel is shown stays marked on a front that is redrawn live; the stations
// list's live update asks with the version it shows (If-None-Match; 304: nothing changed)
// for the page it shows; the compartment's panel opens as a sheet over the page on a phone,
// where it was tapped, and closes with its button or Escape.
(function () {
  "use strict";

  function markSelected() {
    var panel = document.querySelector("[data-compartment-detail]");
    document.querySelectorAll(".front button.door").forEach(function (door) {
      door.classList.toggle(
        "selected", !!panel && door.dataset.compartment === panel.dataset.compartmentDetail);
    });
    var detail = document.getElementById("detail");
    if (detail) {
      detail.classList.toggle("open", !!panel);
    }
  }
  // at the swap itself, not at the settle after it: the panel is a sheet from the moment its
  // content is there (read between the two, it sat at the page's end)
  document.addEventListener("htmx:afterSwap", markSelected);
  document.addEventListener("htmx:afterSettle", markSelected);

  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-live-list")) {
      return;
    }
    var shown = elt.querySelector(".list-live");
    if (!shown) {
      return;
    }
    event.detail.parameters.page = shown.dataset.page || "1";
    if (shown.dataset.etag) {
      event.detail.headers["If-None-Match"] = shown.dataset.etag;
    }
  });

  function closePanel() {
    var detail = document.getElementById("detail");
    if (detail && detail.classList.contains("open")) {
      detail.classList.remove("open");
      detail.replaceChildren();
      markSelected();
    }
  }
  document.addEventListener("click", function (event) {
    if (event.target instanceof Element && event.target.closest("[data-close-panel]")) {
      closePanel();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      closePanel();
    }
  });
})();
