/* global window, document, fetch */
// The local Forge's frame around a Custom UI page: answers its bridge calls (forge-bridge.js)
// through /_forge/invoke, where the local Forge signs a FIT for this frame's context, and
// passes the page's height on to the Bitbucket page (host.js).
(function () {
  'use strict';
  var inner = document.getElementById('forge-ui');
  function reply(id, result, error) {
    inner.contentWindow.postMessage({ type: 'forge-bridge-reply', id: id, result: result, error: error }, window.location.origin);
  }
  window.addEventListener('message', function (event) {
    if (event.source !== inner.contentWindow || event.origin !== window.location.origin) return;
    var msg = event.data || {};
    if (msg.type === 'forge-resize' && typeof msg.height === 'number') {
      var height = Math.min(Math.max(Math.ceil(msg.height), 60), 5000);
      inner.style.height = height + 'px';
      // Only a height leaves this frame; the host page checks who sent it.
      window.parent.postMessage({ type: 'gatehouse-sim', op: 'resize', data: { height: height } }, '*');
      return;
    }
    if (msg.type !== 'forge-bridge-call') return;
    var payload = msg.payload || {};
    if (msg.name !== 'invoke' || payload.invokeType !== 'ui-remote-fetch') {
      reply(msg.id, undefined, 'The local Forge simulates only invokeRemote (got ' + msg.name + ' ' + (payload.invokeType || '') + ')');
      return;
    }
    fetch('/_forge/invoke', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ frame: inner.dataset.frame, path: payload.path, method: payload.method, body: payload.body }),
    })
      .then(function (res) { return res.json(); })
      .then(function (result) { reply(msg.id, result); })
      .catch(function (error) { reply(msg.id, undefined, String(error && error.message)); });
  });
})();
