// alertgate console: live SLA clocks and ages, and the board's live
// updates over server-sent events. No dependencies; loaded with defer.
(function () {
  'use strict';
  var body = document.body;
  // The server's clock minus ours, so clocks count from the server's now.
  var skew = Number(body.dataset.now || Date.now()) - Date.now();

  function human(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's';
    if (s < 86400) return Math.floor(s / 3600) + 'h ' + String(Math.floor(s % 3600 / 60)).padStart(2, '0') + 'm';
    return Math.floor(s / 86400) + 'd ' + Math.floor(s % 86400 / 3600) + 'h';
  }

  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll('[data-due]').forEach(function (el) {
      var left = Number(el.dataset.due) - now;
      if (left > 0) {
        el.textContent = human(left) + ' left';
      } else {
        el.textContent = 'breached ' + human(-left) + ' ago';
        el.classList.add('breached');
      }
    });
    document.querySelectorAll('[data-since]').forEach(function (el) {
      el.textContent = human(now - Number(el.dataset.since));
    });
  }
  tick();
  setInterval(tick, 1000);

  // Copy buttons: <button data-copy="id-of-element">.
  document.addEventListener('click', function (ev) {
    var btn = ev.target.closest('[data-copy]');
    if (!btn) return;
    var src = document.getElementById(btn.dataset.copy);
    if (!src || !navigator.clipboard) return;
    navigator.clipboard.writeText(src.textContent).then(function () {
      btn.textContent = 'Copied';
      setTimeout(function () { btn.textContent = 'Copy'; }, 1500);
    });
  });

  // Silence form: live preview of the firing alerts the matchers match.
  var matchers = document.querySelector('textarea[data-preview]');
  if (matchers) {
    var out = document.getElementById('silence-preview');
    var list = document.getElementById('silence-preview-list');
    var timer = null;
    var preview = function () {
      fetch(matchers.dataset.preview + '?matchers=' + encodeURIComponent(matchers.value), { credentials: 'same-origin' })
        .then(function (r) { return r.json(); })
        .then(function (ans) {
          list.textContent = '';
          if (ans.error) { out.textContent = ans.error; return; }
          out.textContent = ans.matched === 1 ? '1 firing alert would be silenced' : ans.matched + ' firing alerts would be silenced';
          ans.alerts.forEach(function (a) {
            var li = document.createElement('li');
            li.textContent = (a.incident ? a.incident + ' ' : '') + a.title + (a.service ? ' (' + a.service + ')' : '') +
              (a.suppressed ? ' — already ' + a.suppressed : '');
            list.appendChild(li);
          });
        })
        .catch(function () { out.textContent = 'Preview unavailable.'; });
    };
    matchers.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(preview, 300); });
    if (matchers.value.trim() !== '') preview();
  }

  var board = document.getElementById('board');
  if (!board || !window.EventSource) return;
  var rows = document.getElementById('board-rows');
  var live = document.getElementById('live');
  var empty = document.getElementById('board-empty');

  function place(tr, sort) {
    var next = null;
    for (var i = 0; i < rows.children.length; i++) {
      var r = rows.children[i];
      if (r !== tr && r.dataset.sort > sort) { next = r; break; }
    }
    rows.insertBefore(tr, next);
  }

  function apply(u) {
    var old = document.getElementById('row-' + u.id);
    if (u.remove) {
      if (old) old.remove();
    } else {
      var t = document.createElement('template');
      t.innerHTML = u.html.trim();
      var tr = t.content.firstElementChild;
      tr.classList.add('changed');
      if (old) old.remove();
      place(tr, u.sort);
      setTimeout(function () { tr.classList.remove('changed'); }, 3000);
    }
    empty.classList.toggle('hidden', rows.children.length > 0);
    tick();
  }

  // EventSource reconnects by itself after a network error (a gateway
  // restart) and resumes from the last event id. An answer it cannot use
  // (401 after a restart signed everyone out, 502 from a proxy) closes it
  // for good: then open a new one every 5 s, from the last event seen.
  var base = board.dataset.events;
  var last = board.dataset.cursor;
  var connect = function () {
    var es = new EventSource(base + (base.indexOf('?') < 0 ? '?' : '&') + 'since=' + encodeURIComponent(last));
    // Each stream ends after a few seconds by design (the server's write
    // timeout) and reopens at once: only a reconnect that takes longer
    // than 2 s is shown.
    var slow = null;
    es.addEventListener('open', function () {
      clearTimeout(slow);
      slow = null;
      live.textContent = 'Live';
      live.classList.remove('down');
    });
    es.addEventListener('error', function () {
      if (es.readyState === EventSource.CLOSED) {
        clearTimeout(slow);
        live.textContent = 'Live updates stopped; retrying (reload the page if you were signed out)…';
        live.classList.add('down');
        setTimeout(connect, 5000);
        return;
      }
      // Every failed attempt fires an error: the first one starts the
      // timer, the next ones must not restart it.
      if (!slow) slow = setTimeout(function () { live.textContent = 'Reconnecting…'; live.classList.add('down'); }, 2000);
    });
    var seen = function (ev) { if (ev.lastEventId) last = ev.lastEventId; };
    es.addEventListener('hello', seen);
    es.addEventListener('cursor', seen);
    es.addEventListener('incident', function (ev) { seen(ev); apply(JSON.parse(ev.data)); });
  };
  connect();
})();
