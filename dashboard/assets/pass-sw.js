// bygd's pass app service worker (scope /p/): the pass opens with no network.
//
// Every request for a pass page or an app file goes to the network first; whatever the server
// answers (a valid pass, a revoked or expired one, a link that no longer exists) replaces the
// copy kept here, so a pass the server has said is revoked is never shown as valid again.
// Only when the network fails is the kept copy served. The pass's state (pass.json), the
// enrolment and problem reports always go to the network.
'use strict';

var CACHE = 'bygd-pass-v1';
var APP_FILES = ['/assets/bygd.css', '/assets/pass.js', '/assets/qrcode.js'];

self.addEventListener('install', function (event) {
  event.waitUntil(
    caches.open(CACHE)
      .then(function (cache) { return cache.addAll(APP_FILES); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener('activate', function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') {
    return;
  }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.endsWith('/pass.json')) {
    return;
  }
  if (url.pathname.indexOf('/p/') === 0 || url.pathname.indexOf('/assets/') === 0) {
    event.respondWith(networkFirst(request));
  }
});

async function networkFirst(request) {
  var cache = await caches.open(CACHE);
  var response;
  try {
    response = await fetch(request);
  } catch (offline) {
    var kept = await cache.match(request);
    if (kept) {
      return kept;
    }
    throw offline;
  }
  // A server error (5xx) keeps the last good copy; any other answer replaces it.
  if (response.status < 500) {
    await cache.put(request, response.clone());
  }
  return response;
}
