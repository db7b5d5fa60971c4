/* global window, document, URL, ResizeObserver */
// A small stand-in for Bitbucket's /atlassian-connect/all.js, served by the simulator.
// It runs inside the app's iframe and talks to the simulator's host page over postMessage:
// AP.resize, AP.sizeToParent, AP.context.getContext and AP.context.getToken.
(function () {
  'use strict';
  var pending = {};
  var nextId = 1;
  // The host page is the simulator's web origin: the origin this script was loaded from.
  var script = document.currentScript;
  var hostOrigin = script ? new URL(script.src).origin : '*';

  function send(op, data, callback) {
    var id = String(nextId++);
    if (callback) pending[id] = callback;
    window.parent.postMessage({ type: 'gatehouse-sim', op: op, id: id, data: data || {} }, hostOrigin);
    return id;
  }

  window.addEventListener('message', function (event) {
    if (event.origin !== hostOrigin || event.source !== window.parent) return;
    var msg = event.data;
    if (!msg || msg.type !== 'gatehouse-sim-reply' || !pending[msg.id]) return;
    var callback = pending[msg.id];
    delete pending[msg.id];
    callback(msg.result);
  });

  function contentHeight() {
    var el = document.querySelector('.ac-content') || document.body;
    return Math.ceil(el.getBoundingClientRect().height + 16);
  }

  function promiseOrCallback(op, callback) {
    if (typeof callback === 'function') {
      send(op, {}, callback);
      return undefined;
    }
    return new Promise(function (resolve) {
      send(op, {}, resolve);
    });
  }

  window.AP = {
    resize: function (width, height) {
      send('resize', { width: width || '100%', height: height || contentHeight() + 'px' });
    },
    sizeToParent: function () {
      send('sizeToParent', {});
    },
    context: {
      getContext: function (callback) {
        return promiseOrCallback('getContext', callback);
      },
      getToken: function (callback) {
        return promiseOrCallback('getToken', callback);
      },
    },
  };

  // Like the real script, size the frame to its content once loaded and whenever it changes.
  function autoResize() {
    window.AP.resize();
  }
  window.addEventListener('load', autoResize);
  if (typeof ResizeObserver === 'function') {
    window.addEventListener('load', function () {
      new ResizeObserver(autoResize).observe(document.querySelector('.ac-content') || document.body);
    });
  }
})();
