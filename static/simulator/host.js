/* global window, document, URL, fetch */
// Host side of the iframe bridge (see all.js): answers the app's panels on the simulator's pages.
(function () {
  'use strict';
  function frameFor(source) {
    var frames = document.querySelectorAll('iframe.ap-panel');
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === source) return frames[i];
    }
    return null;
  }

  function reply(event, id, result) {
    event.source.postMessage({ type: 'gatehouse-sim-reply', id: id, result: result }, event.origin);
  }

  window.addEventListener('message', function (event) {
    var frame = frameFor(event.source);
    var msg = event.data;
    if (!frame || !msg || msg.type !== 'gatehouse-sim') return;
    if (new URL(frame.src).origin !== event.origin) return;
    var data = msg.data || {};
    switch (msg.op) {
      case 'resize':
        if (/^\d+(px)?$/.test(String(data.height))) frame.style.height = parseInt(data.height, 10) + 'px';
        break;
      case 'sizeToParent':
        frame.style.height = frame.parentElement.clientHeight + 'px';
        break;
      case 'getContext':
        reply(event, msg.id, JSON.parse(frame.dataset.context || '{}'));
        break;
      case 'getToken':
        fetch('/_sim/context-token?clientKey=' + encodeURIComponent(frame.dataset.clientKey || ''))
          .then(function (res) { return res.json(); })
          .then(function (body) { reply(event, msg.id, body.token); });
        break;
    }
  });
})();
