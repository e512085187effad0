/* Tresen waiting room: swap in the part the server re-rendered; keep the last state when the link
   drops ("Verbindung unterbrochen") and reconnect by itself. No build step, no external code. */
(function () {
  "use strict";
  var body = document.body;
  var url = body.getAttribute("data-stream");
  var live = document.getElementById("live");
  var offline = document.getElementById("offline");
  var clock = document.getElementById("clock");
  if (!url || !live) { return; }
  var highlightMs = (Number(live.getAttribute("data-highlight")) || 0) * 1000;
  var gongWanted = new URLSearchParams(location.search).get("gong") === "1";
  var offset = clock ? Number(clock.getAttribute("data-now")) - Date.now() : 0;
  var seen = null;
  var offlineTimer = null;
  var source = null;
  var audio = null;
  // The call display's fixed labels rotate through its languages: the server renders the live part
  // once per language (`[data-lang]`, all but one hidden); this shows one after the other.
  var rotateMs = (Number(live.getAttribute("data-rotate")) || 0) * 1000;
  var shown = null;

  function setOffline(on) {
    offline.hidden = !on;
    body.setAttribute("data-connection", on ? "offline" : "live");
  }

  function soonOffline() {  // a reconnect within a moment is no interruption worth showing
    if (offlineTimer === null) {
      offlineTimer = setTimeout(function () { setOffline(true); }, 2000);
    }
  }

  function online() {
    if (offlineTimer !== null) { clearTimeout(offlineTimer); offlineTimer = null; }
    setOffline(false);
  }

  function gong() {
    if (!gongWanted || !window.AudioContext) { return; }
    audio = audio || new AudioContext();
    [[660, 0], [523, 0.45]].forEach(function (tone) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      var start = audio.currentTime + tone[1];
      osc.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.3, start);
      gain.gain.exponentialRampToValueAtTime(0.001, start + 1.2);
      osc.connect(gain).connect(audio.destination);
      osc.start(start);
      osc.stop(start + 1.2);
    });
  }

  function highlight() {
    var now = Date.now() + offset;
    var ids = {};
    var fresh = false;
    live.querySelectorAll("[data-call-id]").forEach(function (row) {
      var id = row.getAttribute("data-call-id");
      var age = now - Number(row.getAttribute("data-called-at"));
      ids[id] = true;
      if (seen !== null && !seen[id]) { fresh = true; age = Math.min(age, 0); }
      if (highlightMs && age < highlightMs) {
        row.classList.add("new");
        setTimeout(function () { row.classList.remove("new"); }, highlightMs - Math.max(age, 0));
      }
    });
    if (fresh) { gong(); }
    seen = ids;
  }

  function languages() {
    var codes = [];
    live.querySelectorAll(":scope > [data-lang]").forEach(function (part) {
      codes.push(part.getAttribute("data-lang"));
    });
    return codes;
  }

  function showLanguage(code) {
    var codes = languages();
    if (codes.length === 0) { return; }
    shown = codes.indexOf(code) >= 0 ? code : codes[0];
    document.querySelectorAll("[data-lang]").forEach(function (part) {
      part.hidden = part.getAttribute("data-lang") !== shown;
    });
    document.documentElement.lang = shown;
    body.setAttribute("data-shown-lang", shown);
  }

  function rotate() {  // the next language; also the tests' hook (window.tresenDisplay.rotate)
    var codes = languages();
    if (codes.length === 0) { return null; }
    showLanguage(codes[(codes.indexOf(shown) + 1) % codes.length]);
    return shown;
  }

  function tick() {
    if (!clock) { return; }
    clock.textContent = new Intl.DateTimeFormat(document.documentElement.lang, {
      timeZone: "Europe/Berlin", hour: "2-digit", minute: "2-digit"
    }).format(new Date(Date.now() + offset));
  }

  function connect() {
    source = new EventSource(url);
    source.addEventListener("state", function (event) {
      var state = JSON.parse(event.data);
      offset = state.now - Date.now();
      live.innerHTML = state.html;  // rendered and escaped by the server
      if (shown !== null) { showLanguage(shown); }
      highlight();
      tick();
      online();
    });
    source.addEventListener("gone", function () { source.close(); location.reload(); });
    source.onerror = function () {
      soonOffline();
      if (source.readyState === EventSource.CLOSED) {  // an HTTP error: EventSource gives up, we don't
        setTimeout(connect, 5000);
      }
    };
  }

  if (languages().length > 0) {
    showLanguage(null);
    window.tresenDisplay = { rotate: rotate };
    if (rotateMs > 0 && languages().length > 1) { setInterval(rotate, rotateMs); }
  }
  highlight();
  tick();
  setInterval(tick, 1000);
  connect();
}());
