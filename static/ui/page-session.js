/* global window, document, setTimeout */
// What every Gatehouse page script needs, loaded before them (views/ui/layout.eta): the page
// session token that each request carries in a header and each answer renews, and the page's
// live region, error flag and iframe height, and times as the server writes them. The Data
// Center operator page (not framed, no session) uses the last three.
(function () {
  'use strict';
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

  function token() {
    var meta = document.querySelector('meta[name="gatehouse-session"]');
    return meta ? meta.getAttribute('content') : '';
  }

  /** Keeps the renewed token for the next request and for forms posted without script. */
  function setToken(value) {
    if (!value) return;
    var meta = document.querySelector('meta[name="gatehouse-session"]');
    if (meta) meta.setAttribute('content', value);
    var fields = document.querySelectorAll('input[name="_session"]');
    for (var i = 0; i < fields.length; i++) fields[i].value = value;
  }

  function announce(text) {
    var live = document.getElementById('gh-live');
    if (!live || !text) return;
    // Clearing first makes screen readers repeat an identical message.
    live.textContent = '';
    setTimeout(function () { live.textContent = text; }, 50);
  }

  function resize() {
    if (window.AP && typeof window.AP.resize === 'function') window.AP.resize();
  }

  function showError(text) {
    var alert = document.getElementById('gh-alert');
    if (!alert) return;
    alert.textContent = text;
    alert.hidden = false;
    resize();
  }

  function clearError() {
    var alert = document.getElementById('gh-alert');
    if (alert) alert.hidden = true;
  }

  // Same wording as the server (src/ui/format.ts).
  function formatTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    var hh = String(d.getUTCHours()).padStart(2, '0');
    var mm = String(d.getUTCMinutes()).padStart(2, '0');
    return d.getUTCDate() + ' ' + MONTHS[d.getUTCMonth()] + ' ' + d.getUTCFullYear() + ', ' + hh + ':' + mm + ' UTC';
  }

  /** The JSON of an API answer; an error answer throws with the server's message and its status. */
  function jsonAnswer(res) {
    return res.json().catch(function () { return null; }).then(function (json) {
      if (!res.ok) {
        var error = new Error((json && json.error && json.error.message) || 'The request failed (' + res.status + ').');
        error.status = res.status;
        throw error;
      }
      return json;
    });
  }

  window.GatehouseSession = Object.freeze({
    HEADER: 'X-Gatehouse-Session',
    token: token,
    setToken: setToken,
    announce: announce,
    resize: resize,
    showError: showError,
    clearError: clearError,
    formatTime: formatTime,
    jsonAnswer: jsonAnswer,
  });
})();
