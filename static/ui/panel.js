/* global window, document, fetch, URLSearchParams, FormData, setTimeout */
// Gatehouse pages: asynchronous form posts and live updates inside the Bitbucket iframe.
// Every request carries the page session token in a header (see src/ui/session-token.ts);
// the server answers with the re-rendered region and a fresh token.
(function () {
  'use strict';
  var session = window.GatehouseSession;
  var HEADER = session.HEADER;
  var POLL_DELAYS_MS = [2000, 2000, 3000, 5000, 8000, 10000];
  var POLL_LIMIT = 60;

  var token = session.token;
  var setToken = session.setToken;
  var announce = session.announce;
  var resize = session.resize;
  var showError = session.showError;
  var clearError = session.clearError;

  function region() {
    return document.querySelector('[data-gh-region]');
  }

  function replaceRegion(html) {
    var current = region();
    if (!current) return null;
    var holder = document.createElement('div');
    // The HTML is our own server's rendering of escaped templates, fetched from our origin.
    holder.innerHTML = html;
    var next = holder.querySelector('[data-gh-region]');
    if (!next) return null;
    current.replaceWith(next);
    revealControls(next);
    resize();
    return next;
  }

  function failure(res) {
    return res
      .json()
      .then(function (body) { return (body && body.error && body.error.message) || 'The request failed (' + res.status + ').'; })
      .catch(function () { return 'The request failed (' + res.status + ').'; });
  }

  function request(method, url, body) {
    var headers = { Accept: 'text/html' };
    headers[HEADER] = token();
    if (body) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    return fetch(url, { method: method, headers: headers, body: body, credentials: 'omit', cache: 'no-store' }).then(function (res) {
      setToken(res.headers.get(HEADER));
      if (!res.ok) return failure(res).then(function (message) { throw new Error(message); });
      return res.text().then(function (html) { return { html: html, announce: res.headers.get('X-Gatehouse-Announce') }; });
    });
  }

  function focusAfter(next, fingerprint) {
    var target = null;
    if (fingerprint) target = next.querySelector('[data-fingerprint="' + fingerprint.replace(/[^0-9A-Za-z:._-]/g, '') + '"]');
    if (!target) target = next.querySelector('[role="alert"], [data-gh-announce]');
    if (!target) target = document.getElementById('gh-main');
    if (!target) return;
    if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
    target.focus();
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form || !form.hasAttribute || !form.hasAttribute('data-gh-async')) return;
    event.preventDefault();
    if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    var button = form.querySelector('[type="submit"]');
    if (button) {
      if (button.getAttribute('aria-busy') === 'true') return;
      button.setAttribute('aria-busy', 'true');
    }
    clearError();
    var data = new URLSearchParams(new FormData(form));
    data.delete('_session');
    var fingerprint = data.get('fingerprint');
    request('POST', form.getAttribute('action'), data.toString())
      .then(function (result) {
        var next = replaceRegion(result.html);
        if (!next) return;
        var flag = next.querySelector('[data-gh-announce]');
        announce(result.announce || (flag && flag.getAttribute('data-gh-announce')));
        focusAfter(next, fingerprint);
        schedulePoll(0);
      })
      .catch(function (error) {
        if (button) button.removeAttribute('aria-busy');
        showError(error.message);
      });
  });

  // Triage controls need this script (the form is cloned from one <template>), and so do the
  // buttons that fetch with the page session, so they stay hidden until it runs.
  function revealControls(root) {
    var controls = root.querySelectorAll('[data-gh-triage], [data-gh-untriage], [data-gh-more], [data-gh-script-only]');
    for (var i = 0; i < controls.length; i++) controls[i].hidden = false;
  }

  var formCount = 0;
  function openTriage(button) {
    var open = button.nextElementSibling;
    if (open && open.classList.contains('gh-triage-form')) {
      closeTriage(open);
      return;
    }
    var template = document.getElementById('gh-triage-template');
    if (!template) return;
    var form = template.content.firstElementChild.cloneNode(true);
    formCount++;
    form.querySelector('input[name="fingerprint"]').value = button.getAttribute('data-gh-triage');
    var id = 'gh-triage-reason-' + formCount;
    form.querySelector('[data-gh-id="reason"]').id = id;
    form.querySelector('[data-gh-for="reason"]').setAttribute('for', id);
    button.after(form);
    button.setAttribute('aria-expanded', 'true');
    form.querySelector('input[type="radio"]').focus();
    resize();
  }

  function closeTriage(form) {
    var button = form.previousElementSibling;
    form.remove();
    if (button) {
      button.setAttribute('aria-expanded', 'false');
      button.focus();
    }
    resize();
  }

  // The repository panel lists its worst findings; the rest come a page at a time.
  function showMore(button) {
    if (button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    clearError();
    request('GET', button.getAttribute('data-gh-more'))
      .then(function (result) {
        var holder = document.createElement('div');
        // Our own server's rendering of escaped templates, fetched from our origin.
        holder.innerHTML = result.html;
        var list = document.getElementById('gh-open-list');
        var items = holder.querySelectorAll('[data-gh-findings-page] > ol > li');
        var first = null;
        for (var i = 0; i < items.length; i++) {
          if (!first) first = items[i];
          list.appendChild(items[i]);
        }
        var wrap = button.closest('[data-gh-more-wrap]');
        var next = holder.querySelector('[data-gh-more-wrap]');
        if (next) {
          wrap.replaceWith(next);
          revealControls(next);
        } else {
          wrap.remove();
        }
        announce(items.length + ' more findings shown');
        if (first) {
          first.setAttribute('tabindex', '-1');
          first.focus();
        }
        resize();
      })
      .catch(function (error) {
        button.removeAttribute('aria-busy');
        showError(error.message);
      });
  }

  document.addEventListener('click', function (event) {
    var more = event.target.closest ? event.target.closest('[data-gh-more]') : null;
    if (more) {
      showMore(more);
      return;
    }
    var target = event.target.closest ? event.target.closest('[data-gh-triage], [data-gh-untriage], [data-gh-cancel]') : null;
    if (!target) return;
    if (target.hasAttribute('data-gh-triage')) openTriage(target);
    else if (target.hasAttribute('data-gh-cancel')) closeTriage(target.closest('form'));
    else {
      var undo = document.getElementById('gh-untriage-form');
      if (!undo) return;
      undo.querySelector('input[name="fingerprint"]').value = target.getAttribute('data-gh-untriage');
      undo.requestSubmit();
    }
  });

  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape') return;
    var form = event.target.closest ? event.target.closest('.gh-triage-form') : null;
    if (form) closeTriage(form);
  });

  var polls = 0;
  function schedulePoll(attempt) {
    var current = region();
    var url = current && current.getAttribute('data-gh-poll');
    if (!url || polls >= POLL_LIMIT) return;
    polls++;
    setTimeout(function () {
      request('GET', url)
        .then(function (result) {
          var next = replaceRegion(result.html);
          if (!next) return;
          if (next.hasAttribute('data-gh-poll')) {
            schedulePoll(attempt + 1);
          } else {
            var title = next.querySelector('.gh-verdict__title');
            announce('Scan finished: ' + (title ? title.textContent : 'results updated'));
          }
        })
        .catch(function (error) { showError(error.message); });
    }, POLL_DELAYS_MS[Math.min(attempt, POLL_DELAYS_MS.length - 1)]);
  }

  function start() {
    revealControls(document);
    schedulePoll(0);
    resize();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
