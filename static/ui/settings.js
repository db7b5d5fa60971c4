/* global window, document, fetch, setTimeout, clearTimeout, navigator */
// The settings page's coverage, API token and health sections: they talk to Gatehouse's JSON
// API (/api/coverage, /api/tokens, /api/diagnostics) with the page session token, which every
// answer renews (so a page left open keeps polling until the session's absolute end).
(function () {
  'use strict';
  var session = window.GatehouseSession;
  var HEADER = session.HEADER;
  var ACTIVE_POLL_MS = 3000;
  var IDLE_POLL_MS = 20000;
  var STATE_LABEL = { idle: 'Not started', discovering: 'Discovering repositories', running: 'Backfilling', paused: 'Paused', done: 'Done' };

  var token = session.token;
  var setToken = session.setToken;
  var announce = session.announce;
  var resize = session.resize;
  var showError = session.showError;
  var formatTime = session.formatTime;

  /** JSON in, JSON out; an error answer becomes an Error carrying the API's message. */
  function api(method, url, body) {
    var headers = { Accept: 'application/json' };
    headers[HEADER] = token();
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(url, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store' }).then(function (res) {
      setToken(res.headers.get(HEADER));
      if (res.status === 204) return null;
      return session.jsonAnswer(res);
    });
  }

  function etaText(seconds) {
    if (seconds === null || seconds === undefined) return '';
    if (seconds < 60) return 'less than a minute';
    var minutes = Math.round(seconds / 60);
    return minutes < 60 ? 'about ' + minutes + ' min' : 'about ' + Math.floor(minutes / 60) + ' h ' + (minutes % 60) + ' min';
  }

  // ---- Coverage ----

  function section() {
    return document.getElementById('gh-coverage');
  }

  function setField(root, name, text) {
    var el = root.querySelector('[data-gh-cov="' + name + '"]');
    if (el && el.textContent !== String(text)) el.textContent = String(text);
  }

  function active(state) {
    return state === 'running' || state === 'discovering';
  }

  function showCoverage(view) {
    var root = section();
    if (!root) return;
    var r = view.repositories;
    var percent = r.total === 0 ? 0 : Math.floor((r.done / r.total) * 100);
    var previous = root.getAttribute('data-gh-state');
    root.setAttribute('data-gh-state', view.state);
    setField(root, 'stateLabel', STATE_LABEL[view.state] || view.state);
    setField(root, 'summary', r.done + ' of ' + r.total + ' repositories done');
    setField(root, 'done', r.done);
    setField(root, 'total', r.total);
    setField(root, 'known', r.known);
    setField(root, 'files', view.files);
    setField(root, 'megabytes', (view.bytes / (1024 * 1024)).toFixed(1));
    setField(root, 'findings', view.findings);
    setField(root, 'failed', r.failed);
    setField(root, 'eta', etaText(view.etaSeconds) || '\u2014');
    setField(root, 'lastDiscoveryAt', view.lastDiscoveryAt ? formatTime(view.lastDiscoveryAt) : 'never');
    var meter = root.querySelector('[data-gh-cov="percent"]');
    if (meter) {
      meter.value = percent;
      meter.textContent = percent + '%';
    }
    var list = root.querySelector('[data-gh-cov-errors]');
    if (list) {
      list.textContent = '';
      view.errors.forEach(function (e) {
        var li = document.createElement('li');
        var name = document.createElement('strong');
        name.textContent = e.repository;
        li.appendChild(name);
        li.appendChild(document.createTextNode(': ' + e.reason));
        list.appendChild(li);
      });
      list.hidden = view.errors.length === 0;
    }
    setDisabled(root, 'start', active(view.state));
    setDisabled(root, 'pause', !active(view.state));
    setDisabled(root, 'resume', view.state !== 'paused');
    var auto = root.querySelector('[data-gh-auto-backfill]');
    if (auto && auto.getAttribute('aria-busy') !== 'true') auto.checked = view.autoBackfill;
    if (previous && previous !== view.state) announce('Coverage: ' + (STATE_LABEL[view.state] || view.state));
    resize();
  }

  function setDisabled(root, action, disabled) {
    var button = root.querySelector('[data-gh-coverage-action="' + action + '"]');
    if (button && button.getAttribute('aria-busy') !== 'true') button.disabled = disabled;
  }

  var pollTimer = null;
  var stopped = false;
  function schedulePoll() {
    var root = section();
    if (!root || stopped) return;
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, active(root.getAttribute('data-gh-state')) ? ACTIVE_POLL_MS : IDLE_POLL_MS);
  }

  function poll() {
    var root = section();
    if (!root) return;
    api('GET', root.getAttribute('data-gh-coverage'))
      .then(function (view) {
        showCoverage(view);
        schedulePoll();
      })
      .catch(function (error) {
        // A session that ended (401) will not come back by asking again: the page must be reloaded.
        if (error.status === 401) {
          stopped = true;
          showError(error.message + ' Progress is no longer updated.');
          return;
        }
        schedulePoll();
      });
  }

  function coverageAction(button) {
    var root = section();
    var action = button.getAttribute('data-gh-coverage-action');
    button.setAttribute('aria-busy', 'true');
    api('POST', root.getAttribute('data-gh-coverage'), { action: action })
      .then(function (view) {
        button.removeAttribute('aria-busy');
        showCoverage(view);
        announce({ start: 'Backfill started', pause: 'Backfill paused', resume: 'Backfill resumed', discover: 'Discovery queued' }[action]);
        schedulePoll();
      })
      .catch(function (error) {
        button.removeAttribute('aria-busy');
        showError(error.message);
      });
  }

  function autoBackfill(input) {
    var root = section();
    var wanted = input.checked;
    input.setAttribute('aria-busy', 'true');
    api('POST', root.getAttribute('data-gh-coverage'), { autoBackfill: wanted })
      .then(function (view) {
        input.removeAttribute('aria-busy');
        showCoverage(view);
        announce(wanted ? 'New repositories backfill by themselves' : 'New repositories wait for an admin to start the backfill');
      })
      .catch(function (error) {
        input.removeAttribute('aria-busy');
        input.checked = !wanted;
        showError(error.message);
      });
  }

  // ---- API tokens ----

  function tokens() {
    return document.getElementById('gh-tokens');
  }

  function tokenRow(t) {
    var row = document.createElement('tr');
    row.setAttribute('data-gh-token-id', t.id);
    [t.name, 'You', formatTime(t.createdAt), 'never'].forEach(function (text) {
      var cell = document.createElement('td');
      cell.textContent = text;
      row.appendChild(cell);
    });
    var actions = document.createElement('td');
    var revoke = document.createElement('button');
    revoke.type = 'button';
    revoke.className = 'gh-button gh-button--subtle';
    revoke.setAttribute('data-gh-revoke', t.id);
    revoke.textContent = 'Revoke';
    actions.appendChild(revoke);
    row.appendChild(actions);
    return row;
  }

  function emptyState(root) {
    var empty = root.querySelector('[data-gh-tokens-empty]');
    if (empty) empty.hidden = root.querySelectorAll('[data-gh-token-id]').length > 0;
  }

  function createToken(form) {
    var root = tokens();
    var input = form.querySelector('input[name="name"]');
    var button = form.querySelector('[type="submit"]');
    if (button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    api('POST', root.getAttribute('data-gh-tokens'), { name: input.value })
      .then(function (created) {
        button.removeAttribute('aria-busy');
        input.value = '';
        root.querySelector('[data-gh-token-rows]').appendChild(tokenRow({ id: created.id, name: created.name, createdAt: new Date().toISOString() }));
        emptyState(root);
        var box = root.querySelector('[data-gh-token-created]');
        box.querySelector('#gh-token-value').value = created.token;
        box.hidden = false;
        box.focus();
        announce('Token ' + created.name + ' created. Copy it now: it will not be shown again.');
        resize();
      })
      .catch(function (error) {
        button.removeAttribute('aria-busy');
        showError(error.message);
      });
  }

  function revokeToken(button) {
    var root = tokens();
    var id = button.getAttribute('data-gh-revoke');
    button.setAttribute('aria-busy', 'true');
    api('DELETE', root.getAttribute('data-gh-tokens') + '/' + encodeURIComponent(id))
      .then(function () {
        var row = button.closest('tr');
        var name = row ? row.firstElementChild.textContent : '';
        if (row) row.remove();
        emptyState(root);
        var heading = document.getElementById('gh-tokens-title');
        if (heading) {
          heading.setAttribute('tabindex', '-1');
          heading.focus();
        }
        announce('Token ' + name + ' revoked');
        resize();
      })
      .catch(function (error) {
        button.removeAttribute('aria-busy');
        showError(error.message);
      });
  }

  function copy(button) {
    var input = document.getElementById(button.getAttribute('data-gh-copy'));
    if (!input) return;
    input.focus();
    input.select();
    var done = function () { announce('Copied'); };
    // The Clipboard API may be refused inside Bitbucket's iframe; the selection is the fallback.
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(done, function () {
        if (document.execCommand && document.execCommand('copy')) done();
        else announce('Press Ctrl+C or Cmd+C to copy the selected token');
      });
    } else if (document.execCommand && document.execCommand('copy')) {
      done();
    }
  }

  // ---- Health ----

  function retryJob(button) {
    var root = document.getElementById('gh-health');
    var id = button.getAttribute('data-gh-retry');
    button.setAttribute('aria-busy', 'true');
    api('POST', root.getAttribute('data-gh-diagnostics') + '/dead-jobs/' + encodeURIComponent(id) + '/retry')
      .then(function () {
        var row = button.closest('tr');
        var cell = button.parentNode;
        cell.textContent = 'Queued again';
        if (row) row.classList.add('gh-retried');
        announce('Job queued again');
      })
      .catch(function (error) {
        button.removeAttribute('aria-busy');
        showError(error.message);
      });
  }

  document.addEventListener('click', function (event) {
    var target = event.target.closest ? event.target.closest('[data-gh-coverage-action], [data-gh-revoke], [data-gh-copy], [data-gh-retry]') : null;
    if (!target || target.disabled || target.getAttribute('aria-busy') === 'true') return;
    if (target.hasAttribute('data-gh-coverage-action')) coverageAction(target);
    else if (target.hasAttribute('data-gh-revoke')) revokeToken(target);
    else if (target.hasAttribute('data-gh-retry')) retryJob(target);
    else copy(target);
  });

  document.addEventListener('change', function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute('data-gh-auto-backfill')) autoBackfill(event.target);
  });

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute('data-gh-token-form')) return;
    event.preventDefault();
    if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    createToken(form);
  });

  function start() {
    schedulePoll();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
