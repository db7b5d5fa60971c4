/* global window, document, fetch, sessionStorage */
// The Data Center operator page (src/datacenter/operator-page.ts). The operator types
// ADMIN_TOKEN once; it is kept in this tab's sessionStorage only (never a URL, a cookie or the
// history) and sent as `Authorization: Bearer` to the operator JSON API, whose answers are put
// on the page as text (never as HTML).
(function () {
  'use strict';
  var session = window.GatehouseSession;
  var STORAGE_KEY = 'gatehouse-admin-token';
  var API = document.querySelector('meta[name="gatehouse-operator-api"]').getAttribute('content');
  var STATUS = {
    ok: { text: 'OK', appearance: 'success', bold: false },
    token_revoked: { text: 'Token revoked', appearance: 'removed', bold: true },
    unreachable: { text: 'Unreachable', appearance: 'moved', bold: false },
  };
  var RESULT = {
    PASSED: { text: 'Passed', appearance: 'success', bold: true },
    FAILED: { text: 'Failed', appearance: 'removed', bold: true },
  };
  var SEVERITIES = ['critical', 'high', 'medium', 'low'];

  function storedToken() {
    try {
      return sessionStorage.getItem(STORAGE_KEY) || '';
    } catch {
      return '';
    }
  }

  function keepToken(token) {
    try {
      if (token) sessionStorage.setItem(STORAGE_KEY, token);
      else sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // Storage refused (private mode): the token then lasts until the page is left.
    }
  }

  /** GET on the operator API; an error answer becomes an Error with the API's message and status. */
  function get(path, token) {
    return fetch(API + path, {
      headers: { Accept: 'application/json', Authorization: 'Bearer ' + token },
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    }).then(function (res) {
      return session.jsonAnswer(res);
    });
  }

  // ---- Small DOM helpers: every value from the API goes in as text ----

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function lozenge(lz) {
    var appearance = /^[a-z]+$/.test(lz.appearance) ? lz.appearance : 'default';
    return el('span', 'gh-lozenge gh-lozenge--' + appearance + (lz.bold ? ' gh-lozenge--bold' : ''), lz.text);
  }

  /** A link only to an absolute http(s) URL (the API builds them; this keeps `javascript:` out regardless). */
  function link(href, text) {
    if (typeof href !== 'string' || !/^https?:\/\//i.test(href)) return el('code', '', text);
    var a = el('a', '', text);
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    return a;
  }

  function plural(n, one) {
    return n + ' ' + (n === 1 ? one : one + 's');
  }

  function counts(bySeverity) {
    var list = el('ul', 'gh-dc-counts');
    SEVERITIES.forEach(function (s) {
      var item = el('li', '', s.charAt(0).toUpperCase() + s.slice(1) + ' ');
      item.appendChild(el('strong', '', bySeverity[s] || 0));
      list.appendChild(item);
    });
    return list;
  }

  // ---- Rendering ----

  function findingItem(f) {
    var item = el('li', 'gh-finding');
    var head = el('div', 'gh-finding__head');
    head.appendChild(lozenge(f.lozenge));
    head.appendChild(el('span', 'gh-finding__title', f.title));
    head.appendChild(el('span', 'gh-finding__kind', f.kind === 'secret' ? 'Secret' : 'Vulnerable package'));
    if (f.triage) head.appendChild(lozenge({ text: f.triage.label, appearance: 'new', bold: false }));
    item.appendChild(head);
    var where = el('p', 'gh-finding__where');
    where.appendChild(link(f.sourceHref, f.path + (f.line > 0 ? ':' + f.line : '')));
    if (f.preview) {
      where.appendChild(el('span', 'gh-meta__sep', '·'));
      var preview = el('code', 'gh-secret', f.preview);
      preview.setAttribute('aria-label', 'masked secret');
      where.appendChild(preview);
    }
    if (f.advisory) {
      where.appendChild(el('span', 'gh-meta__sep', '·'));
      where.appendChild(link(f.advisory.href, f.advisory.id));
    }
    item.appendChild(where);
    return item;
  }

  function pullRequestBlock(summary, model) {
    var block = el('article', 'gh-dc-pr');
    block.setAttribute('data-gh-pr', String(summary.id));
    var head = el('div', 'gh-dc-pr__head');
    head.appendChild(link(summary.url, '#' + summary.id));
    head.appendChild(el('span', 'gh-branch', summary.sourceBranch));
    head.appendChild(el('span', 'gh-subtle', '→'));
    head.appendChild(el('span', 'gh-branch', summary.destinationBranch));
    if (!model) {
      head.appendChild(lozenge(RESULT[summary.lastResult] || { text: 'Not scanned', appearance: 'default', bold: false }));
      block.appendChild(head);
      block.appendChild(el('p', 'gh-subtle', 'Its findings could not be loaded.'));
      return block;
    }
    head.appendChild(lozenge(model.verdict.lozenge));
    block.appendChild(head);
    block.appendChild(el('p', 'gh-dc-pr__reason', model.verdict.reason));
    var fresh = [];
    model.newGroups.forEach(function (g) { fresh = fresh.concat(g.findings); });
    var bySeverity = {};
    fresh.forEach(function (f) { bySeverity[f.severity] = (bySeverity[f.severity] || 0) + 1; });
    block.appendChild(el('p', 'gh-meta', plural(model.newCount, 'new finding') + ', ' + plural(model.existing.length, 'existing finding') + (model.scannedAt ? ' · scanned ' + session.formatTime(model.scannedAt) : '')));
    block.appendChild(counts(bySeverity));
    var all = fresh.concat(model.existing);
    if (all.length > 0) {
      var list = el('ul', 'gh-findings');
      all.forEach(function (f) { list.appendChild(findingItem(f)); });
      block.appendChild(list);
    }
    return block;
  }

  function branchTable(branches) {
    var wrap = el('div', 'gh-table-wrap');
    var table = el('table', 'gh-table');
    var head = el('tr');
    ['Branch', 'Result', 'Critical', 'High', 'Medium', 'Low', 'Commit', 'Scanned'].forEach(function (h) { head.appendChild(el('th', '', h)); });
    var thead = el('thead');
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el('tbody');
    branches.forEach(function (b) {
      var row = el('tr');
      row.setAttribute('data-gh-branch', b.branch);
      row.appendChild(el('td', 'gh-nowrap')).appendChild(el('span', 'gh-branch', b.branch));
      row.appendChild(el('td')).appendChild(lozenge(RESULT[b.result] || { text: b.result, appearance: 'default', bold: false }));
      SEVERITIES.forEach(function (s) { row.appendChild(el('td', '', (b.counts && b.counts[s]) || 0)); });
      row.appendChild(el('td')).appendChild(el('code', '', b.commit.slice(0, 12)));
      row.appendChild(el('td', 'gh-nowrap', session.formatTime(b.scannedAt)));
      body.appendChild(row);
    });
    table.appendChild(body);
    wrap.appendChild(table);
    return wrap;
  }

  function repositoryBlock(repo, details) {
    var block = el('section', 'gh-dc-repo');
    block.setAttribute('data-gh-repository', repo.repository || repo.repoUuid);
    block.appendChild(el('h4', 'gh-dc-repo__name', repo.repository || repo.repoUuid));
    if (repo.branches.length > 0) {
      block.appendChild(el('h5', 'gh-subheading', 'Branches'));
      block.appendChild(branchTable(repo.branches));
    }
    var open = repo.pullRequests.filter(function (p) { return p.state === 'OPEN'; });
    block.appendChild(el('h5', 'gh-subheading', open.length > 0 ? 'Open pull requests' : 'No open pull request'));
    open.forEach(function (p) { block.appendChild(pullRequestBlock(p, details[p.id])); });
    var closed = repo.pullRequests.length - open.length;
    if (closed > 0) block.appendChild(el('p', 'gh-meta', plural(closed, 'merged, declined or deleted pull request') + ' not shown.'));
    return block;
  }

  function statusNote(instance) {
    var message = instance.lastError ? instance.lastError.message : '';
    var since = instance.lastError ? ' (since ' + session.formatTime(instance.lastError.at) + ')' : '';
    if (instance.status === 'token_revoked') {
      return el('p', 'gh-flag gh-flag--error', 'Data Center refused the access token' + since + ': ' + message + ' Its jobs are waiting, nothing is lost: register a new token (gatehouse datacenter add, or POST ' + API + ') and they run.');
    }
    if (instance.status === 'unreachable') return el('p', 'gh-flag gh-flag--warning', 'The instance could not be reached' + since + ': ' + message + ' Jobs are retried with backoff.');
    return null;
  }

  function instanceBlock(instance, results, details) {
    var block = el('section', 'gh-dc-instance');
    block.setAttribute('data-gh-instance', instance.instanceId);
    var name = el('h3', 'gh-dc-instance__name');
    name.appendChild(el('span', 'gh-dc-instance__title', instance.name));
    name.appendChild(lozenge(STATUS[instance.status] || { text: instance.status, appearance: 'default', bold: false }));
    block.appendChild(name);
    var meta = el('p', 'gh-meta');
    meta.appendChild(link(instance.baseUrl, instance.baseUrl));
    meta.appendChild(el('span', 'gh-meta__sep', '·'));
    meta.appendChild(el('span', '', 'webhook '));
    meta.appendChild(el('code', '', instance.webhookUrl));
    block.appendChild(meta);
    var note = statusNote(instance);
    if (note) block.appendChild(note);
    if (!results) {
      block.appendChild(el('p', 'gh-error', 'Its results could not be loaded.'));
      return block;
    }
    if (results.repositories.length === 0) block.appendChild(el('p', 'gh-empty', 'No results yet: nothing of this instance has been scanned.'));
    results.repositories.forEach(function (repo) { block.appendChild(repositoryBlock(repo, details[repo.repoUuid] || {})); });
    return block;
  }

  /** One instance's results and its open pull requests' verdicts and findings; a part that fails is shown as such. */
  function loadInstance(instance, token) {
    var base = '/' + encodeURIComponent(instance.instanceId) + '/results';
    return get(base, token).then(function (results) {
      var details = {};
      var asks = [];
      results.repositories.forEach(function (repo) {
        details[repo.repoUuid] = {};
        if (!repo.repository) return;
        repo.pullRequests.forEach(function (p) {
          if (p.state !== 'OPEN') return;
          var query = '?repository=' + encodeURIComponent(repo.repository) + '&id=' + p.id;
          asks.push(get(base + '/pull-request' + query, token).then(
            function (model) { details[repo.repoUuid][p.id] = model; },
            function () { details[repo.repoUuid][p.id] = null; },
          ));
        });
      });
      return Promise.all(asks).then(function () { return instanceBlock(instance, results, details); });
    }, function (error) {
      if (error.status === 401) throw error;
      return instanceBlock(instance, null, {});
    });
  }

  // ---- Signing in and out ----

  var form = document.getElementById('gh-login');
  var input = document.getElementById('gh-admin-token');
  var loginError = document.getElementById('gh-login-error');
  var results = document.getElementById('gh-results');
  var list = document.getElementById('gh-instances');
  var loading = document.getElementById('gh-loading');

  function showLogin(message) {
    keepToken('');
    results.hidden = true;
    list.textContent = '';
    form.hidden = false;
    loginError.textContent = message || '';
    loginError.hidden = !message;
    input.setAttribute('aria-invalid', message ? 'true' : 'false');
    input.focus();
  }

  function load(token) {
    session.clearError();
    loading.hidden = false;
    return get('', token)
      .then(function (answer) {
        keepToken(token);
        form.hidden = true;
        results.hidden = false;
        return Promise.all(answer.instances.map(function (instance) { return loadInstance(instance, token); }));
      })
      .then(function (blocks) {
        list.textContent = '';
        if (blocks.length === 0) list.appendChild(el('p', 'gh-empty', 'No Data Center instance is registered. Register one with gatehouse datacenter add.'));
        blocks.forEach(function (b) { list.appendChild(b); });
        session.announce(plural(blocks.length, 'instance') + ' loaded');
      })
      .catch(function (error) {
        if (error.status === 401) showLogin('That token was refused: it is not this server\'s ADMIN_TOKEN.');
        else session.showError(error.message);
      })
      .then(function () { loading.hidden = true; });
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var token = input.value.trim();
    input.value = '';
    if (!token) {
      showLogin('Enter the operator token.');
      return;
    }
    load(token);
  });

  document.getElementById('gh-refresh').addEventListener('click', function () {
    var token = storedToken();
    if (token) load(token);
    else showLogin('');
  });

  document.getElementById('gh-signout').addEventListener('click', function () {
    showLogin('');
  });

  var remembered = storedToken();
  if (remembered) load(remembered);
  else showLogin('');
})();
