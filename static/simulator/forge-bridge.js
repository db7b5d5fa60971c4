/* global window, document, ResizeObserver */
// Stand-in for the Custom UI bridge that Forge injects into every Custom UI page: @forge/bridge
// calls window.__bridge.callBridge(name, payload). Calls go to the frame page around this one
// (forge-frame.js), which asks the local Forge to sign them; this page holds no token.
(function () {
  'use strict';
  var pending = {};
  var next = 0;
  window.addEventListener('message', function (event) {
    if (event.source !== window.parent || event.origin !== window.location.origin) return;
    var msg = event.data;
    if (!msg || msg.type !== 'forge-bridge-reply' || !pending[msg.id]) return;
    var call = pending[msg.id];
    delete pending[msg.id];
    if (msg.error) call.reject(new Error(msg.error));
    else call.resolve(msg.result);
  });
  window.__bridge = {
    callBridge: function (name, payload) {
      return new Promise(function (resolve, reject) {
        next += 1;
        pending[next] = { resolve: resolve, reject: reject };
        window.parent.postMessage({ type: 'forge-bridge-call', id: next, name: name, payload: payload }, window.location.origin);
      });
    },
  };
  // Forge sizes the iframe to its content (iframe-resizer); the frame page does it here.
  function report() {
    window.parent.postMessage({ type: 'forge-resize', height: document.documentElement.scrollHeight }, window.location.origin);
  }
  document.addEventListener('DOMContentLoaded', function () {
    new ResizeObserver(report).observe(document.body);
    report();
  });
})();
