// podium: keep server-rendered pages live. The page names, in the
// data-live attribute of <main>, the server-sent events that change it; on
// such an event the page fetches its own content again (rendered on the
// server) and swaps it in. Without JavaScript the pages still work, without
// live updates.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var status = document.getElementById("live-status");

  // Images with a fallback (driver headshots) that failed before this
  // script ran: hide them so that the initials behind show. Images failing
  // later hide themselves (their onerror).
  function hideBroken() {
    document.querySelectorAll("img[data-fallback]").forEach(function (img) {
      if (img.complete && img.naturalWidth === 0) img.hidden = true;
    });
  }
  hideBroken();

  // Times the server wrote in the company's zone (<time datetime=...
  // data-local>) are shown in the viewer's own zone, named; an element with
  // data-tz-name gets that zone's name.
  function localTimes() {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!zone) return;
    var fmt = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
    document.querySelectorAll("time[data-local]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) t.textContent = fmt.format(d);
    });
    document.querySelectorAll("[data-tz-name]").forEach(function (el) { el.textContent = zone; });
  }
  localTimes();
  document.addEventListener("podium:updated", localTimes);

  // Selectors submit on change (the form also has a button for no-JS use).
  // A field with data-reset="a b" leaves fields a and b out when it changes
  // (a new season starts from its latest round).
  document.addEventListener("change", function (e) {
    var f = e.target.form;
    if (!f || !f.classList.contains("auto")) return;
    (e.target.dataset.reset || "").split(/\s+/).filter(Boolean).forEach(function (name) {
      var el = f.elements[name];
      if (el) el.disabled = true;
    });
    f.submit();
  });

  // The navigation menu (a <details>, which works without script) closes
  // on Escape, back to its button, and on a click outside it.
  var menu = document.getElementById("menu");
  if (menu) {
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && menu.open) { menu.open = false; menu.querySelector("summary").focus(); }
    });
    document.addEventListener("click", function (e) {
      if (menu.open && !menu.contains(e.target)) menu.open = false;
    });
  }

  if (!main || !window.EventSource) return;
  var wanted = (main.dataset.live || "").split(/\s+/).filter(Boolean);
  var inFlight = false, dirty = false;

  function refresh() {
    if (inFlight) { dirty = true; return; }
    inFlight = true;
    fetch(location.href, { headers: { "X-Podium-Fragment": "1" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var active = document.activeElement && document.activeElement.id;
        main.innerHTML = html;
        if (active) { var el = document.getElementById(active); if (el) el.focus(); }
        hideBroken();
        document.dispatchEvent(new CustomEvent("podium:updated"));
      })
      .catch(function () {})
      .then(function () {
        inFlight = false;
        if (dirty) { dirty = false; refresh(); }
      });
  }

  var es = null;
  function connect() {
    es = new EventSource("/events");
    es.onopen = function () { status && status.classList.add("on"); };
    es.onerror = function () { status && status.classList.remove("on"); };
    wanted.forEach(function (name) {
      es.addEventListener(name, function (e) {
        var filter = main.dataset.filter;
        if (filter) {
          try {
            var d = JSON.parse(e.data), f = JSON.parse(filter);
            for (var k in f) { if (d[k] !== undefined && String(d[k]) !== String(f[k])) return; }
          } catch (err) { /* refresh anyway */ }
        }
        refresh();
      });
    });
  }
  connect();
  // Leaving the page closes the stream (a page kept in the back-forward
  // cache must not hold a connection); coming back reopens it and catches
  // up.
  window.addEventListener("pagehide", function () {
    if (es) { es.close(); es = null; }
    status && status.classList.remove("on");
  });
  window.addEventListener("pageshow", function (e) {
    if (e.persisted && !es) { connect(); refresh(); }
  });
})();
