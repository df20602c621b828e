// console.js: the web console's pages (sign-in, auditor, entry, operator, citizen); docs/console.md
//
// Everything is built with DOM calls and textContent (never innerHTML), so
// nothing the node or a log entry holds can become markup or script. Every
// call carries the session's CSRF token in X-Xbus-Csrf; the session itself
// is an HttpOnly cookie this script never sees.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const views = ['view-signin', 'view-auditor', 'view-entry', 'view-operator', 'view-citizen'];
  let lang = localStorage.getItem('xbus.lang') === 'en' ? 'en' : 'vi';
  let session = null; // {role, actor, csrf}
  let cursors = []; // the cursors of the pages before the current one
  let cursor = null; // the current page's cursor
  let nextCursor = null;
  let citizenCursor = null;
  let rerender = () => {};
  let shownEntry = null; // the bytes of the entry the entry page shows

  const t = (k) => (XbusText[lang] && XbusText[lang][k]) || XbusText.en[k] || k;

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? '' : String(c)));
    return e;
  }

  function applyText() {
    document.documentElement.lang = lang;
    for (const e of document.querySelectorAll('[data-t]')) e.textContent = t(e.dataset.t);
    $('pin-show').textContent = pinned() || t('pin_none');
    rerender();
  }

  function show(view) {
    for (const v of views) $(v).hidden = v !== view;
    window.scrollTo(0, 0);
  }

  function message(text, kind) {
    const m = $('message');
    m.textContent = text || '';
    m.className = kind || '';
    m.hidden = !text;
  }

  const pinned = () => localStorage.getItem('xbus.vkey') || '';

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || 'HTTP ' + status);
      this.status = status;
    }
  }

  function expired() {
    session = null;
    $('signout').hidden = true;
    $('who').textContent = '';
    show('view-signin');
    message(t('session_expired'), 'expired');
  }

  // A console call: JSON (or text, or a Blob) back; a lost session leads to the sign-in page.
  async function api(path, opts = {}) {
    const headers = { 'X-Xbus-Csrf': session ? session.csrf : 'login', Accept: 'application/json' };
    if (opts.body) headers['Content-Type'] = 'application/json';
    const res = await fetch('/ui/api/' + path, {
      method: opts.method || 'GET',
      headers,
      body: opts.body ? JSON.stringify(opts.body) : undefined,
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
    if (!res.ok) {
      let problem = null;
      try {
        problem = await res.json();
      } catch (e) {
        problem = null;
      }
      if (res.status === 401 && session) expired();
      throw new ApiError(res.status, problem);
    }
    if (opts.as === 'text') return res.text();
    if (opts.as === 'blob') return res.blob();
    return res.json();
  }

  function fmtTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-GB') + ' (' + iso + ')';
  }

  // --- verdicts -------------------------------------------------------------

  function renderVerdict(box, result, help = 'verified_help') {
    box.hidden = false;
    box.replaceChildren();
    if (!result) {
      delete box.dataset.verdict;
      box.className = 'verdict working' + (box.classList.contains('small') ? ' small' : '');
      box.append(el('strong', { text: t('verifying') }));
      return;
    }
    box.className = 'verdict ' + (result.ok ? 'verified' : 'not-verified') + (box.classList.contains('small') ? ' small' : '');
    box.dataset.verdict = result.ok ? 'verified' : 'not-verified';
    box.append(el('strong', { class: 'mark', text: (result.ok ? '\u2714 ' : '\u2718 ') + t(result.ok ? 'verified' : 'not_verified') }));
    const small = box.classList.contains('small');
    if (result.ok && !small) box.append(el('p', { text: t(help) }));
    const ul = el('ul', { class: 'steps' });
    for (const s of result.steps)
      ul.append(el('li', { class: s.ok ? 'ok' : 'fail', 'data-step': s.name }, (s.ok ? '\u2714 ' : '\u2718 ') + t('step_' + s.name) + (s.ok ? '' : ': ' + s.why)));
    box.append(small ? el('details', {}, el('summary', { text: t('proof') }), ul) : ul);
  }

  async function verifyInto(box, answer) {
    renderVerdict(box, null);
    const result = await XbusVerify.verifyEntry(answer, pinned());
    renderVerdict(box, result);
    return result;
  }

  // --- auditor ----------------------------------------------------------------

  function searchQuery() {
    const q = new URLSearchParams();
    const add = (name, id) => {
      const v = $(id).value.trim();
      if (v) q.set(name, v);
    };
    for (const [name, id] of [['from', 'q-from'], ['to', 'q-to']]) {
      const v = $(id).value;
      if (v) q.set(name, new Date(v).toISOString());
    }
    add('client', 'q-client');
    add('service', 'q-service');
    add('decision', 'q-decision');
    add('outcome', 'q-outcome');
    add('xroad_id', 'q-xroad-id');
    add('subject', 'q-subject');
    q.set('limit', '20');
    if (cursor !== null) q.set('cursor', String(cursor));
    return q;
  }

  async function search() {
    message('');
    const tbody = $('results').tBodies[0];
    let page;
    try {
      page = await api('audit/entries?' + searchQuery().toString());
    } catch (e) {
      if (session) message(e.message, 'error');
      return;
    }
    tbody.replaceChildren();
    for (const e of page.entries) {
      tbody.append(el('tr', { 'data-seq': e.seq },
        el('td', { text: e.seq }), el('td', { text: fmtTime(e.time) }), el('td', { text: e.client || '' }),
        el('td', { text: e.service || '' }), el('td', { text: t(e.decision) }), el('td', { text: e.status == null ? '' : e.status }),
        el('td', { text: e.error || '' }),
        el('td', {}, el('button', { type: 'button', class: 'open', onclick: () => openEntry(e.seq) }, t('open')))));
    }
    $('results-empty').hidden = page.entries.length > 0;
    nextCursor = page.next_cursor;
    $('next-page').disabled = nextCursor === null;
    $('prev-page').disabled = cursors.length === 0;
  }

  function fieldRows(tbody, obj) {
    tbody.replaceChildren();
    for (const [k, v] of Object.entries(obj))
      tbody.append(el('tr', {}, el('th', { text: k }), el('td', { text: v === null ? 'null' : typeof v === 'object' ? JSON.stringify(v) : String(v) })));
  }

  const receiptFields = ['seq', 'time', 'xroad_id', 'client', 'service', 'request_hash', 'response_hash', 'subject', 'purpose', 'basis', 'xroad_request_hash', 'request_id'];

  async function openEntry(seq, back = 'view-auditor') {
    message('');
    renderVerdict($('entry-verdict'), null); // never a verdict of the entry shown before
    $('receipt-verdict').hidden = true;
    $('receipt-input').value = '';
    shownEntry = null;
    let answer;
    try {
      answer = await api('audit/entries/' + encodeURIComponent(seq));
    } catch (e) {
      if (session) message(e.message, 'error');
      return;
    }
    show('view-entry');
    $('entry-back').onclick = () => show(back);
    $('entry-seq').textContent = '#' + answer.seq;
    shownEntry = answer.entry;
    let entry = {};
    try {
      entry = JSON.parse(answer.entry);
    } catch (e) {
      entry = { unreadable: answer.entry };
    }
    fieldRows($('entry-fields').tBodies[0], entry);
    const receipt = {};
    for (const k of receiptFields) if (entry[k] !== undefined && entry[k] !== null) receipt[k] = entry[k];
    fieldRows($('entry-receipt').tBodies[0], receipt);
    fieldRows($('entry-proof').tBodies[0], {
      tree_size: answer.tree_size,
      leaf_hash: answer.leaf_hash,
      inclusion_proof: (answer.inclusion_proof || []).join('\n'),
      checkpoint: answer.checkpoint,
    });
    const result = await verifyInto($('entry-verdict'), answer);
    if (result.ok) keepCheckpoint(answer.checkpoint);
  }

  // Checkpoints this browser verified, kept so that a later comparison uses them rather than the server's copy.
  function keptCheckpoints() {
    try {
      return JSON.parse(localStorage.getItem('xbus.checkpoints') || '{}');
    } catch (e) {
      return {};
    }
  }

  function keepCheckpoint(note) {
    try {
      const cp = XbusVerify.parseCheckpoint(note);
      const kept = keptCheckpoints();
      kept[String(cp.size)] = note;
      const sizes = Object.keys(kept).sort((a, b) => Number(a) - Number(b));
      while (sizes.length > 20) delete kept[sizes.splice(1, 1)[0]]; // keep the oldest and the newest ones
      localStorage.setItem('xbus.checkpoints', JSON.stringify(kept));
    } catch (e) {
      /* not a checkpoint: nothing to keep */
    }
  }

  async function checkpointNote(size) {
    const kept = keptCheckpoints()[String(size)];
    return kept || api('audit/checkpoint?size=' + encodeURIComponent(size), { as: 'text' });
  }

  async function compare() {
    const box = $('consistency-verdict');
    const a = $('c-size1').value;
    const b = $('c-size2').value;
    message('');
    renderVerdict(box, null);
    try {
      const [n1, n2, proof] = await Promise.all([checkpointNote(a), checkpointNote(b),
        api('audit/consistency?from=' + encodeURIComponent(a) + '&to=' + encodeURIComponent(b))]);
      const result = await XbusVerify.verifyConsistencyProof(n1, n2, proof.proof, pinned());
      renderVerdict(box, result, 'consistent_help');
      if (result.ok) {
        keepCheckpoint(n1);
        keepCheckpoint(n2);
      }
    } catch (e) {
      renderVerdict(box, { ok: false, steps: [{ name: 'consistency', ok: false, why: e.message }] });
    }
  }

  async function auditorStart() {
    show('view-auditor');
    $('pin-input').value = pinned();
    try {
      const note = await api('audit/checkpoint', { as: 'text' });
      const cp = XbusVerify.parseCheckpoint(note);
      const sizes = Object.keys(keptCheckpoints()).map(Number).sort((x, y) => x - y);
      $('c-size1').value = sizes.length ? sizes[0] : String(cp.size);
      $('c-size2').value = String(cp.size);
    } catch (e) {
      /* no checkpoint yet */
    }
    cursors = [];
    cursor = null;
    await search();
  }

  async function download() {
    try {
      const blob = await api('audit/export', { as: 'blob' });
      const a = el('a', { href: URL.createObjectURL(blob), download: 'xbus-export.jsonl' });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (e) {
      if (session) message(e.message, 'error');
    }
  }

  // --- operator ---------------------------------------------------------------

  function card(title, rows) {
    const tbody = el('tbody');
    for (const [k, v] of rows) tbody.append(el('tr', {}, el('th', { text: k }), el('td', { text: v })));
    return el('div', { class: 'card' }, el('h3', { text: title }), el('table', { class: 'fields' }, tbody));
  }

  async function operatorStart() {
    show('view-operator');
    let s;
    try {
      s = await api('operator/status');
    } catch (e) {
      if (session) message(e.message, 'error');
      return;
    }
    const cards = $('op-cards');
    rerender = () => operatorRender(s);
    operatorRender(s);
    cards.dataset.loaded = '1';
  }

  function operatorRender(s) {
    const cards = $('op-cards');
    cards.replaceChildren();
    const health = s.health || {};
    cards.append(card(t('health'), [[t('status'), health.status || '?'], ...((health.reasons || []).map((r) => [r.check, r.detail]))]));
    cards.append(card(t('version'), [['xbusd', s.version], ['node', s.node],
      [t('requests'), s.requests.total + ' (' + t('allow') + ' ' + s.requests.allowed + ', ' + t('deny') + ' ' + s.requests.refused + ')']]));
    if (s.registry)
      cards.append(card(t('registry'), [['instance', s.registry.instance], [t('registry_version'), s.registry.version],
        [t('registry_age'), s.registry.age_seconds + ' ' + t('seconds')]]));
    cards.append(card(t('services'), s.services.map((v) => [v.id, t('adapters') + ': ' + v.adapters])));
    const refusals = Object.entries(s.refusals || {});
    const recent = s.recent_refusals || { entries: 0, by_type: {} };
    cards.append(card(t('refusals'), (refusals.length ? refusals.map(([k, v]) => [k, v]) : [['-', '0']])
      .concat([[t('recent_refusals').replace('%d', recent.entries), '']])
      .concat(Object.entries(recent.by_type).map(([k, v]) => ['\u2003' + k, v]))));
    const cp = s.log.last_checkpoint;
    cards.append(card(t('log'), [[t('entries'), s.log.entries], [t('last_checkpoint'), cp ? cp.size + ' @ ' + cp.time : '-']]));
    cards.append(card(t('certificates'), s.certificates.map((c) => [c.what + ': ' + c.subject, c.not_after + ' (' + c.expires_in_days + ' ' + t('days_left') + ')'])));
    if (s.console_signins)
      cards.append(card(t('signins'), Object.entries(s.console_signins).map(([k, v]) => [k, v])));
  }

  // --- citizen ----------------------------------------------------------------

  function consentCell(a) {
    if (a.consent) return t('consent_used');
    if (a.decision === 'deny' && /^consent_/.test(a.error || '')) return t('refused') + ' (' + a.error + ')';
    return t('consent_none');
  }

  async function citizenAccesses(more) {
    const tbody = $('accesses').tBodies[0];
    let page;
    try {
      page = await api('citizen/accesses' + (more && citizenCursor !== null ? '?cursor=' + citizenCursor : ''));
    } catch (e) {
      if (session) message(e.message, 'error');
      return;
    }
    if (!more) tbody.replaceChildren();
    for (const a of page.accesses) {
      const verdict = el('div', { class: 'verdict small', id: 'verdict-' + a.seq, hidden: '' });
      const verify = async () => {
        try {
          const answer = await api('citizen/entries/' + a.seq);
          await verifyInto(verdict, answer);
        } catch (e) {
          renderVerdict(verdict, { ok: false, steps: [{ name: 'inclusion', ok: false, why: e.message }] });
        }
      };
      tbody.append(el('tr', { 'data-seq': a.seq },
        el('td', { text: fmtTime(a.time) }), el('td', { text: a.client || '' }), el('td', { text: a.service || '' }),
        el('td', { text: a.purpose || '' }),
        el('td', { text: (a.basis === 'consent' ? t('basis_consent') : a.basis === 'statute' ? t('basis_statute') : a.basis || '') + (a.legal_reference ? ' \u2014 ' + a.legal_reference : '') }),
        el('td', { text: consentCell(a) }),
        el('td', { text: a.decision === 'allow' ? t('delivered') : t('refused') + (a.error ? ' (' + a.error + ')' : '') }),
        el('td', {}, el('button', { type: 'button', class: 'verify', onclick: verify }, t('verify')), verdict)));
    }
    citizenCursor = page.next_cursor;
    $('accesses-more').hidden = citizenCursor === null;
    $('accesses-empty').hidden = tbody.rows.length > 0;
  }

  async function citizenConsents() {
    const tbody = $('consents').tBodies[0];
    let list;
    try {
      list = await api('citizen/consents');
    } catch (e) {
      if (session) message(e.message, 'error');
      return;
    }
    tbody.replaceChildren();
    for (const c of list.consents) {
      const revoke = async () => {
        try {
          await api('citizen/consents/' + encodeURIComponent(c.id) + '/revoke', { method: 'POST', body: {} });
        } catch (e) {
          if (session) message(e.message, 'error');
        }
        await citizenConsents();
      };
      tbody.append(el('tr', { 'data-consent': c.id },
        el('td', { text: c.grantee || '' }), el('td', { text: (c.services || []).concat(c.categories || []).join(', ') }),
        el('td', { text: c.purpose || '' }), el('td', { text: fmtTime(c.expires) }), el('td', { class: 'status', text: t(c.status) || c.status }),
        el('td', {}, c.status === 'active' ? el('button', { type: 'button', class: 'revoke', onclick: revoke }, t('revoke')) : '')));
    }
    $('consents-empty').hidden = list.consents.length > 0;
  }

  async function citizenStart() {
    show('view-citizen');
    citizenCursor = null;
    await citizenAccesses(false);
    await citizenConsents();
  }

  // --- sign-in ----------------------------------------------------------------

  function start() {
    $('who').textContent = t('role_' + session.role) + (session.actor ? ' \u2014 ' + session.actor : '');
    $('signout').hidden = false;
    rerender = () => {};
    if (session.role === 'auditor') return auditorStart();
    if (session.role === 'operator') return operatorStart();
    return citizenStart();
  }

  function pinFromLink(vkey) {
    if (!vkey) return;
    if (!pinned()) localStorage.setItem('xbus.vkey', vkey);
    else if (pinned() !== vkey) message(t('pin_differs'), 'warning');
  }

  async function signIn() {
    // not URLSearchParams: it would turn the '+' of a base64 key into a space
    const frag = {};
    for (const part of location.hash.slice(1).split('&')) {
      const eq = part.indexOf('=');
      if (eq > 0) frag[part.slice(0, eq)] = decodeURIComponent(part.slice(eq + 1));
    }
    const token = frag.login;
    const vkey = frag.vkey;
    const jwk = frag.jwk;
    if (location.hash) history.replaceState(null, '', location.pathname); // the token leaves the address bar and history
    if (token) {
      message(t('signin_working'));
      try {
        session = await api('login', { method: 'POST', body: { token } });
        message('');
        pinFromLink(vkey);
        if (jwk && !localStorage.getItem('xbus.jwk')) {
          try {
            const text = new TextDecoder().decode(Uint8Array.from(atob(jwk.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)));
            JSON.parse(text);
            localStorage.setItem('xbus.jwk', text);
          } catch (e) {
            /* not a key: none pinned */
          }
        }
        $('pin-show').textContent = pinned() || t('pin_none');
        return start();
      } catch (e) {
        show('view-signin');
        message(t('signin_failed') + ': ' + e.message, 'error');
        return;
      }
    }
    try {
      session = await api('session');
      return start();
    } catch (e) {
      session = null;
      show('view-signin');
    }
  }

  function wire() {
    $('lang').addEventListener('click', () => {
      lang = lang === 'vi' ? 'en' : 'vi';
      localStorage.setItem('xbus.lang', lang);
      applyText();
    });
    $('signout').addEventListener('click', async () => {
      try {
        await api('logout', { method: 'POST', body: {} });
      } catch (e) {
        /* gone already */
      }
      session = null;
      $('signout').hidden = true;
      $('who').textContent = '';
      show('view-signin');
    });
    $('search-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      cursors = [];
      cursor = null;
      search();
    });
    $('next-page').addEventListener('click', () => {
      cursors.push(cursor);
      cursor = nextCursor;
      search();
    });
    $('prev-page').addEventListener('click', () => {
      cursor = cursors.pop();
      search();
    });
    $('consistency-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      compare();
    });
    $('export').addEventListener('click', download);
    $('receipt-check').addEventListener('click', async () => {
      const box = $('receipt-verdict');
      renderVerdict(box, null);
      const result = await XbusVerify.verifyReceipt($('receipt-input').value, shownEntry || 'null', localStorage.getItem('xbus.jwk'));
      renderVerdict(box, result, 'receipt_ok_help');
      if (result.fields) {
        // a receipt of the group-commit form: its tree head and the entry it carries
        const table = el('table', { class: 'fields receipt-fields' }, el('tbody'));
        fieldRows(table.tBodies[0], result.fields);
        box.append(el('details', { open: '' }, el('summary', { text: t('receipt_fields') }), table));
      }
    });
    $('op-refresh').addEventListener('click', operatorStart);
    $('accesses-more').addEventListener('click', () => citizenAccesses(true));
    $('pin-save').addEventListener('click', async () => {
      const v = $('pin-input').value.trim();
      try {
        await XbusVerify.parseVkey(v);
        localStorage.setItem('xbus.vkey', v);
        message('');
      } catch (e) {
        message(e.message, 'error');
      }
      $('pin-show').textContent = pinned() || t('pin_none');
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    wire();
    applyText();
    signIn();
    window.addEventListener('hashchange', () => {
      if (location.hash.includes('login=')) signIn(); // a new link opened on this page
    });
  });
})();
