// bygd's member pass app: the script of the pass page behind a member's link.
//
// - Registers the service worker (/p/sw.js) and keeps a copy of the page in each language,
//   so the installed app opens with no network.
// - Enrols this phone once: a P-256 key made by WebCrypto that cannot be exported, kept in
//   IndexedDB, its public half sent to the server, which answers with a pass bound to it.
// - Draws the device-bound pass as a fresh BYGD1D: presentation every 30 seconds: an ES256
//   signature over "bygd/v1/device-proof" || pass id || time step || counter (SPEC.md), the
//   counter saved before each signature so that no two codes share one, the time step read
//   on a clock corrected by the server's.
// - When online, asks the server how the pass stands and reloads a revoked, expired or
//   renewed pass; a pass once seen revoked stays revoked here even if an older copy of the
//   page says otherwise.
//
// No framework and no build step. The QR encoder is qrcode-generator (vendored, MIT).
(function () {
  'use strict';

  var app = document.getElementById('pass-app');
  if (!app) {
    return;
  }
  var link = app.getAttribute('data-link');
  var STEP_SECONDS = 30;
  var CACHE = 'bygd-pass-v1';
  var PROOF_CONTEXT = 'bygd/v1/device-proof';
  var BASE45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
  var db = null;
  var record = null;

  // ---- the page ---------------------------------------------------------------------------

  function element(id) {
    return document.getElementById(id);
  }

  function show(id, visible) {
    var el = element(id);
    if (el) {
      el.hidden = !visible;
    }
  }

  function showGone(status) {
    show('pass-code', false);
    show('pass-hint', false);
    show('app-enrol', false);
    show('app-msg-enrolled', false);
    show(status === 'expired' ? 'app-msg-expired' : 'app-msg-revoked', true);
  }

  // ---- storage: one record per link in IndexedDB ------------------------------------------

  function openDb() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) {
        reject(new Error('no IndexedDB'));
        return;
      }
      var request = indexedDB.open('bygd-pass', 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore('links');
      };
      request.onsuccess = function () {
        resolve(request.result);
      };
      request.onerror = function () {
        reject(request.error);
      };
    });
  }

  function load() {
    return new Promise(function (resolve, reject) {
      var request = db.transaction('links').objectStore('links').get(link);
      request.onsuccess = function () {
        resolve(request.result || null);
      };
      request.onerror = function () {
        reject(request.error);
      };
    });
  }

  // Resolves once the write is committed: a counter is on disk before it is signed.
  function save(value) {
    return new Promise(function (resolve, reject) {
      var tx = db.transaction('links', 'readwrite');
      tx.objectStore('links').put(value, link);
      tx.oncomplete = function () {
        resolve();
      };
      tx.onerror = function () {
        reject(tx.error);
      };
      tx.onabort = function () {
        reject(tx.error || new Error('aborted'));
      };
    });
  }

  // Changes the stored record in one read-write transaction, so that two open tabs never
  // write back an older counter or a status the other one saved: `change` gets what is
  // stored and returns the fields to change. Resolves to the record as stored.
  function update(change) {
    return new Promise(function (resolve, reject) {
      var tx = db.transaction('links', 'readwrite');
      var store = tx.objectStore('links');
      var result = null;
      var got = store.get(link);
      got.onsuccess = function () {
        var stored = got.result || {};
        result = Object.assign({}, stored, change(stored));
        store.put(result, link);
      };
      tx.oncomplete = function () {
        resolve(result);
      };
      tx.onerror = function () {
        reject(tx.error);
      };
      tx.onabort = function () {
        reject(tx.error || new Error('aborted'));
      };
    });
  }

  // Remembers that the server said the pass is revoked or expired (or its link is gone).
  async function rememberGone(status) {
    try {
      localStorage.setItem('bygd-gone:' + link, status);
    } catch (e) {
      // Private mode: IndexedDB below, or the page itself.
    }
    if (db) {
      try {
        record = await update(function () {
          return { status: status };
        });
      } catch (e) {
        // The page shows it anyway.
      }
    }
  }

  // ---- bytes: hex, base45 (RFC 9285), CBOR (shortest forms, as the protocol decodes) ------

  function fromHex(text) {
    var bytes = new Uint8Array(text.length / 2);
    for (var i = 0; i < bytes.length; i++) {
      bytes[i] = parseInt(text.substr(i * 2, 2), 16);
    }
    return bytes;
  }

  function toHex(bytes) {
    var out = '';
    for (var i = 0; i < bytes.length; i++) {
      out += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
    }
    return out;
  }

  function base45(bytes) {
    var out = '';
    for (var i = 0; i + 1 < bytes.length; i += 2) {
      var n = bytes[i] * 256 + bytes[i + 1];
      out += BASE45[n % 45] + BASE45[Math.floor(n / 45) % 45] + BASE45[Math.floor(n / 2025)];
    }
    if (bytes.length % 2 === 1) {
      var last = bytes[bytes.length - 1];
      out += BASE45[last % 45] + BASE45[Math.floor(last / 45)];
    }
    return out;
  }

  // An unsigned 64-bit big-endian integer (values below 2^53).
  function u64(n) {
    var out = new Uint8Array(8);
    var high = Math.floor(n / 4294967296);
    var low = n % 4294967296;
    for (var i = 0; i < 4; i++) {
      out[3 - i] = (high >>> (8 * i)) & 255;
      out[7 - i] = (low >>> (8 * i)) & 255;
    }
    return out;
  }

  function cborHead(major, n) {
    if (n < 24) {
      return [(major << 5) | n];
    }
    if (n < 256) {
      return [(major << 5) | 24, n];
    }
    if (n < 65536) {
      return [(major << 5) | 25, n >> 8, n & 255];
    }
    if (n < 4294967296) {
      return [(major << 5) | 26, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
    }
    return [(major << 5) | 27].concat(Array.prototype.slice.call(u64(n)));
  }

  function concat(parts) {
    var length = 0;
    parts.forEach(function (p) {
      length += p.length;
    });
    var out = new Uint8Array(length);
    var at = 0;
    parts.forEach(function (p) {
      out.set(p, at);
      at += p.length;
    });
    return out;
  }

  // [pass, time step, counter, signature]
  function presentation(pass, step, counter, signature) {
    return concat([
      new Uint8Array([0x84]),
      new Uint8Array(cborHead(2, pass.length)),
      pass,
      new Uint8Array(cborHead(0, step)),
      new Uint8Array(cborHead(0, counter)),
      new Uint8Array(cborHead(2, signature.length)),
      signature
    ]);
  }

  // ---- the QR code ------------------------------------------------------------------------

  function drawCode(text) {
    var qr = qrcode(0, 'M');
    qr.addData(text, 'Alphanumeric');
    qr.make();
    var count = qr.getModuleCount();
    var quiet = 4;
    var size = count + 2 * quiet;
    var path = '';
    for (var row = 0; row < count; row++) {
      for (var col = 0; col < count; col++) {
        if (qr.isDark(row, col)) {
          path += 'M' + (col + quiet) + ' ' + (row + quiet) + 'h1v1h-1z';
        }
      }
    }
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + size + ' ' + size);
    svg.setAttribute('shape-rendering', 'crispEdges');
    svg.setAttribute('aria-hidden', 'true');
    var background = document.createElementNS(ns, 'rect');
    background.setAttribute('width', String(size));
    background.setAttribute('height', String(size));
    background.setAttribute('fill', '#fff');
    var modules = document.createElementNS(ns, 'path');
    modules.setAttribute('d', path);
    modules.setAttribute('fill', '#000');
    svg.appendChild(background);
    svg.appendChild(modules);
    var box = element('pass-code');
    box.replaceChildren(svg);
    box.setAttribute('data-code', text);
    box.hidden = false;
    show('pass-hint', true);
  }

  // ---- the server -------------------------------------------------------------------------

  // How the pass stands, or null when the server cannot be reached.
  async function fetchState() {
    var controller = window.AbortController ? new AbortController() : null;
    var timeout = controller ? setTimeout(function () { controller.abort(); }, 3000) : null;
    try {
      var asked = Date.now();
      var response = await fetch(link + '/pass.json', {
        cache: 'no-store',
        signal: controller ? controller.signal : undefined
      });
      if (response.status === 404) {
        return { status: 'gone' };
      }
      if (!response.ok) {
        return null;
      }
      var state = await response.json();
      var answered = Date.now();
      state.offset = state.now - (asked + answered) / 2000;
      return state;
    } catch (offline) {
      return null;
    } finally {
      clearTimeout(timeout);
    }
  }

  async function reportProblem(problem) {
    try {
      await fetch(link + '/device-problem', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ problem: problem })
      });
    } catch (offline) {
      // Reported again the next time the member tries.
    }
  }

  // Keeps the page (in each language) and the app's files for opening offline.
  async function keepCopies() {
    if (!window.caches) {
      return;
    }
    try {
      var cache = await caches.open(CACHE);
      await cache.addAll([
        link,
        link + '?lang=sv',
        link + '?lang=da',
        link + '?lang=en',
        '/assets/bygd.css',
        '/assets/pass.js',
        '/assets/qrcode.js'
      ]);
    } catch (e) {
      // Offline or storage full: the copies from the last visit stay.
    }
  }

  // ---- the device key and its proofs ------------------------------------------------------

  function isIos() {
    return /iPhone|iPad|iPod/.test(navigator.userAgent) ||
      (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
  }

  function installed() {
    return window.matchMedia('(display-mode: standalone)').matches || navigator.standalone === true;
  }

  // Makes and stores a key this browser keeps and cannot export; throws the reason if it
  // cannot (one of the server's device problems).
  async function makeKey() {
    if (!window.crypto || !crypto.subtle) {
      throw 'no-webcrypto';
    }
    if (!db) {
      throw 'no-indexeddb';
    }
    if (record && record.keys) {
      // A key made before (an enrolment whose answer was lost, another tab): the same key
      // again, never a new one over it.
      return new Uint8Array(await crypto.subtle.exportKey('raw', record.keys.publicKey));
    }
    var keys;
    try {
      keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    } catch (e) {
      throw 'no-webcrypto';
    }
    var fresh = { keys: keys, counter: 0, offset: record ? record.offset || 0 : 0, status: 'valid' };
    try {
      await save(fresh);
    } catch (e) {
      throw 'key-not-stored';
    }
    try {
      var kept = await load();
      await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, kept.keys.privateKey, new Uint8Array(1));
      record = kept;
    } catch (e) {
      throw 'key-not-usable';
    }
    return new Uint8Array(await crypto.subtle.exportKey('raw', keys.publicKey));
  }

  async function enrol() {
    var button = element('app-enrol-button');
    button.disabled = true;
    show('app-msg-enrol-failed', false);
    var publicKey;
    try {
      publicKey = await makeKey();
    } catch (problem) {
      var reason = typeof problem === 'string' ? problem : 'key-not-usable';
      await reportProblem(reason);
      show('app-enrol', false);
      show(app.getAttribute('data-require-device-key') === 'true' ? 'app-msg-required-no-key' : 'app-msg-no-key', true);
      return;
    }
    if (navigator.storage && navigator.storage.persist) {
      try {
        await navigator.storage.persist();
      } catch (e) {
        // Asked; the browser decides.
      }
    }
    var response;
    try {
      response = await fetch(link + '/enrol', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ public_key: toHex(publicKey) })
      });
    } catch (offline) {
      response = null;
    }
    if (response && response.ok) {
      // The server's page now shows the device-bound pass: load it (and keep its copies).
      location.reload();
      return;
    }
    if (response && response.status === 409) {
      // Revoked, expired or renewed meanwhile, or set up on another phone: the state says.
      var now = await fetchState();
      if (now && await follow(now)) {
        return;
      }
      show('app-enrol', false);
      show('app-msg-other-device', true);
      return;
    }
    button.disabled = false;
    show('app-msg-enrol-failed', true);
  }

  var drawTimer = null;

  async function drawPresentation() {
    var pass = fromHex(app.getAttribute('data-pass'));
    var passId = fromHex(app.getAttribute('data-pass-id'));
    var now = Date.now() / 1000 + (record.offset || 0);
    var step = Math.floor(now / STEP_SECONDS);
    var inMemory = record.counter || 0;
    record = await update(function (stored) {
      return { counter: Math.max(stored.counter || 0, inMemory) + 1 };
    });
    var message = concat([new TextEncoder().encode(PROOF_CONTEXT), passId, u64(step), u64(record.counter)]);
    var signature = new Uint8Array(await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' }, record.keys.privateKey, message));
    drawCode('BYGD1D:' + base45(presentation(pass, step, record.counter, signature)));
  }

  // The next code at the next time step.
  function schedule() {
    var now = Date.now() / 1000 + ((record && record.offset) || 0);
    clearTimeout(drawTimer);
    drawTimer = setTimeout(tick, (STEP_SECONDS - (now % STEP_SECONDS)) * 1000 + 50);
  }

  // A fresh code first (a slow network never leaves an old one on screen), then a look at
  // the server.
  async function tick() {
    try {
      if (record && record.keys && record.status === 'valid') {
        await drawPresentation();
      }
    } catch (e) {
      // Storage or signing failed this once: the next step tries again.
    } finally {
      schedule();
    }
    var state = await fetchState();
    if (state && await follow(state)) {
      return;
    }
    show('app-msg-offline', state === null);
  }

  // Acts on the server's answer; true when the page is being reloaded or the pass is gone.
  async function follow(state) {
    if (record && record.keys && typeof state.offset === 'number') {
      var offset = state.offset;
      record.offset = offset;
      await update(function () {
        return { offset: offset };
      }).catch(function () {});
    }
    if (state.status !== 'valid') {
      await rememberGone(state.status);
      if (app.getAttribute('data-status') === 'valid') {
        location.reload();
      }
      showGone(state.status);
      return true;
    }
    if (state.pass_id !== app.getAttribute('data-pass-id')) {
      location.reload();
      return true;
    }
    return false;
  }

  // ---- start ------------------------------------------------------------------------------

  function rememberLanguage() {
    var links = document.querySelectorAll('nav.langs a[data-lang]');
    Array.prototype.forEach.call(links, function (a) {
      a.addEventListener('click', function () {
        try {
          localStorage.setItem('bygd-lang', a.getAttribute('data-lang'));
        } catch (e) {
          // Not remembered: the link still switches.
        }
      });
    });
    try {
      var chosen = localStorage.getItem('bygd-lang');
      if (chosen && chosen !== app.getAttribute('data-lang') && location.search.indexOf('lang=') < 0) {
        location.replace(link + '?lang=' + chosen);
        return true;
      }
    } catch (e) {
      // No storage: the browser's language.
    }
    return false;
  }

  async function start() {
    if (rememberLanguage()) {
      return;
    }
    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.register('/p/sw.js', { scope: '/p/' }).catch(function () {});
    }
    try {
      db = await openDb();
      record = await load();
    } catch (e) {
      db = null;
      record = null;
    }
    var told = null;
    try {
      told = localStorage.getItem('bygd-gone:' + link);
    } catch (e) {
      told = null;
    }
    if (record && record.status && record.status !== 'valid') {
      told = record.status;
    }
    if (told) {
      // Told before that the pass is revoked or expired: shown so, whatever an older copy of
      // this page says, until the server itself says otherwise.
      showGone(told);
    }
    if (app.getAttribute('data-status') !== 'valid') {
      // The server's own page says revoked or expired: remembered, so that an older copy of
      // the page (another language's) never shows the pass as valid here.
      await rememberGone(app.getAttribute('data-status'));
      keepCopies();
      return;
    }
    var state = await fetchState();
    if (state && await follow(state)) {
      return;
    }
    if (told) {
      if (state === null) {
        return;
      }
      // The server says valid again (a member restored): forget what was told, start over.
      try {
        localStorage.removeItem('bygd-gone:' + link);
      } catch (e) {
        // Nothing stored.
      }
      if (db) {
        await update(function () {
          return { status: 'valid' };
        }).catch(function () {});
      }
      location.reload();
      return;
    }
    show('app-msg-offline', state === null);
    keepCopies();
    if (app.getAttribute('data-device-bound') === 'true') {
      if (!record || !record.keys) {
        // The pass is bound to a key this browser does not hold.
        show('pass-code', false);
        show('pass-hint', false);
        show('app-msg-other-device', true);
        return;
      }
      if (state) {
        record.offset = state.offset;
      }
      show('app-msg-enrolled', true);
      try {
        await drawPresentation();
      } catch (e) {
        // The next step tries again.
      } finally {
        schedule();
      }
      document.addEventListener('visibilitychange', function () {
        if (document.visibilityState === 'visible') {
          tick();
        }
      });
      window.addEventListener('online', tick);
      return;
    }
    // A bare pass: offer to keep it on this phone.
    if (state && state.can_enrol) {
      if (isIos() && !installed()) {
        show('app-msg-ios-install', true);
        return;
      }
      show('app-enrol', true);
      element('app-enrol-button').addEventListener('click', enrol);
    }
  }

  start();
})();
