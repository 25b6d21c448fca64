// The registry model page's buttons: promote, roll back, set alias. Each sends the token the user
// pasted as "Authorization: Bearer <token>" (nothing is sent without one, so the server answers
// 401), shows the server's one-line answer, and on success redraws the page's state from the
// server-rendered page itself, so the page never guesses what the registry did.
(function () {
  "use strict";
  var root = document.getElementById("registry-actions");
  if (!root) {
    return;
  }
  var model = root.dataset.model;
  var statusLine = document.getElementById("registry-status");

  function show(ok, text) {
    statusLine.textContent = text;
    statusLine.className = ok ? "ok" : "error";
  }

  function value(id) {
    var el = document.getElementById(id);
    return el ? el.value.trim() : "";
  }

  function redraw() {
    return fetch(window.location.href, { headers: { Accept: "text/html" } })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("registry-state");
        var current = document.getElementById("registry-state");
        if (fresh && current) {
          current.replaceWith(document.importNode(fresh, true));
        }
      });
  }

  function send(action, payload) {
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    var token = value("token");
    if (token) {
      headers.Authorization = "Bearer " + token;
    }
    if (value("reason")) { payload.reason = value("reason"); }
    if (value("who")) { payload.who = value("who"); }
    show(true, "sending " + action + "…");
    var url = "/api/registry/" + encodeURIComponent(model) + "/" + action;
    return fetch(url, { method: "POST", headers: headers, body: JSON.stringify(payload) })
      .then(function (r) {
        return r.json()
          .catch(function () { return {}; })
          .then(function (body) { return { status: r.status, body: body }; });
      })
      .then(function (res) {
        if (res.status >= 200 && res.status < 300) {
          document.getElementById("reason").value = "";  // a reason belongs to one change
          return redraw().then(function () { show(true, res.body.message || "done"); });
        }
        var detail = res.body.detail;
        if (typeof detail !== "string") { detail = JSON.stringify(detail); }
        show(false, "refused (" + res.status + "): " + detail);
        return null;
      })
      .catch(function (err) { show(false, "the request failed: " + err); });
  }

  function payloadFor(button) {
    var action = button.dataset.action;
    if (action === "promote") {
      var version = parseInt(button.dataset.version, 10);
      var select = document.querySelector('select[data-stage-for="' + version + '"]');
      return { version: version, stage: select ? select.value : "production" };
    }
    if (action === "alias") {
      return { alias: value("alias-name"), version: parseInt(value("alias-version"), 10) || 0 };
    }
    return {};
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("button[data-action]");
    if (!button || button.disabled) {
      return;
    }
    ev.preventDefault();
    send(button.dataset.action, payloadFor(button));
  });
})();
