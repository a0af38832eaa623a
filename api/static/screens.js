// The screens' little behaviour beside htmx (the CSRF header is common/static/csrf.js):
// the kiosk's keypad, countdowns of a lockout, and putting the focus back where the next
// input goes.
(function () {
  "use strict";

  // The keypad types into its field; the field keeps the focus for a keyboard or scanner.
  document.addEventListener("click", function (event) {
    var key = event.target.closest("[data-key]");
    if (key) {
      var field = document.getElementById(key.dataset.for);
      if (key.dataset.key === "clear") {
        field.value = "";
      } else if (key.dataset.key === "back") {
        field.value = field.value.slice(0, -1);
      } else if (field.value.length < field.maxLength) {
        field.value += key.dataset.key;
      }
      groupDigits(field);
      field.focus();
      return;
    }
    var refocus = event.target.closest("[data-refocus]");
    if (refocus) {
      var target = document.getElementById(refocus.dataset.refocus);
      if (target) {
        target.focus();
      }
    }
  });

  // A PIN reads in groups, as it is printed (063 585 8597): a field marked data-group-digits
  // shows the digits typed so; the station takes the code with or without the spaces.
  function groupDigits(field) {
    if (!field.hasAttribute("data-group-digits")) {
      return;
    }
    var digits = field.value.replace(/[\s-]/g, "");
    if (!/^[0-9]{5,}$/.test(digits)) {
      return;
    }
    var groups = [];
    while (digits.length > 4) {
      groups.push(digits.slice(0, 3));
      digits = digits.slice(3);
    }
    groups.push(digits);
    field.value = groups.join(" ");
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-group-digits]")) {
      groupDigits(event.target);
    }
  });

  // At the kiosk, typing always lands in the code field, wherever a finger tapped last:
  // a QR scanner types like a keyboard and must never type into nothing.
  document.addEventListener("keydown", function (event) {
    var field = document.querySelector("[data-catch-typing]");
    var active = document.activeElement;
    if (!field || event.key.length !== 1 || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (active && active.matches("input, select, textarea")) {
      return;
    }
    field.focus();
  });

  // The courier's directory search: Enter (a label scanner ends with it) searches at once
  // instead of sending the form with "none of these" still chosen; the best match of that
  // search is then chosen and focused, and the next Enter deposits for that person.
  var chooseBest = false;
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("[data-directory-search]")) {
      event.preventDefault();
      chooseBest = true;
      htmx.trigger(event.target, "search");
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!chooseBest || !event.detail.target || event.detail.target.id !== "matches") {
      return;
    }
    chooseBest = false;
    var best = event.detail.target.querySelector("input[name=recipient_choice]");
    if (best) {
      best.checked = true;
      best.focus();
    }
  });

  // The courier's tracking number: Enter (a label scanner ends with it) asks at once
  // whether it was announced instead of sending a half-filled form; an announced one's
  // "Deposit this parcel" is then focused (the next Enter deposits it), else the
  // recipient's field, to go on describing the parcel. Until the courier does anything
  // else, an answer that comes again (the typing's own, a moment later) is focused too.
  var trackingScanned = false;
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("[data-tracking-scan]")) {
      event.preventDefault();
      trackingScanned = true;
      htmx.trigger(event.target, "search");
    } else {
      trackingScanned = false;
    }
  });
  document.addEventListener("pointerdown", function () { trackingScanned = false; });
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!trackingScanned || !target || target.id !== "announced-match") {
      return;
    }
    var next = target.querySelector("#deposit-announced") || document.getElementById("recipient_name");
    if (next) {
      next.focus();
    }
  });

  // A form marked data-clear-after forgets what was typed once it was sent.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt && event.detail.elt.closest
      ? event.detail.elt.closest("form[data-clear-after]") : null;
    if (form) {
      form.reset();
      var first = form.querySelector("input");
      if (first) {
        first.focus();
      }
    }
  });

  // A code typed but never sent is forgotten after a while: the next person at the kiosk
  // must not find it in the field (which shows dots, not digits, to those looking on).
  var lastTyped = Date.now();
  document.addEventListener("input", function () { lastTyped = Date.now(); });
  document.addEventListener("click", function () { lastTyped = Date.now(); });
  setInterval(function () {
    document.querySelectorAll("[data-forget-after]").forEach(function (field) {
      var after = parseFloat(field.dataset.forgetAfter) * 1000;
      if (field.value && Date.now() - lastTyped > after) {
        field.value = "";
      }
    });
  }, 500);

  // "Please wait 30 seconds": count down, and keep data-waits buttons off meanwhile.
  function tick() {
    var waiting = false;
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var left = Math.max(0, parseInt(el.dataset.countdown, 10) - 1);
      el.dataset.countdown = String(left);
      el.textContent = el.dataset.template.replace("{s}", String(left));
      if (left > 0) {
        waiting = true;
      } else {
        el.removeAttribute("data-countdown");
      }
    });
    document.querySelectorAll("[data-waits]").forEach(function (button) {
      button.disabled = waiting;
    });
  }
  setInterval(tick, 1000);
  // The door whose panel is shown stays marked on a front that is redrawn live.
  function markSelected() {
    var panel = document.querySelector("[data-compartment-detail]");
    document.querySelectorAll(".front button.door").forEach(function (door) {
      door.classList.toggle(
        "selected", !!panel && door.dataset.compartment === panel.dataset.compartmentDetail);
    });
  }
  document.addEventListener("htmx:afterSettle", markSelected);

  document.addEventListener("htmx:afterSettle", function () {
    if (document.querySelector("[data-countdown]")) {
      document.querySelectorAll("[data-waits]").forEach(function (button) {
        button.disabled = true;
      });
    }
  });
})();
