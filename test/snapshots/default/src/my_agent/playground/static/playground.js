// The playground's only script: no framework, no build step, no third-party code.
// Everything the model, a tool or the service says is untrusted and is rendered with
// textContent / text nodes, never as HTML.
'use strict';

(() => {
  const KEY_STORAGE = 'playground.apiKey'; // sessionStorage only: gone when the tab closes
  const SESSION_STORAGE = 'playground.sessionId';

  // What each contract error code means to someone at the keyboard.
  const HINTS = {
    bad_request: 'The service could not read the request.',
    unauthorized: 'The API key is missing or wrong: enter a valid key above.',
    not_found: 'The service does not know this.',
    payload_too_large: 'The message is larger than this service accepts (MAX_BODY_BYTES).',
    unsupported_media_type: 'The request was not sent as JSON.',
    validation_error: 'The service refused the request as invalid.',
    rate_limited: 'Too many requests for this key.',
    budget_exceeded: "The service's daily token budget is spent.",
    upstream_error: 'The model endpoint failed, even after retries.',
    shutting_down: 'The service is shutting down; try again in a moment.',
    upstream_timeout: 'The model, or the whole turn, took longer than its timeout.',
    internal_error: "The service hit an unexpected error; its log has the trace id.",
  };

  const $ = (id) => document.getElementById(id);
  const ui = {
    serviceName: $('service-name'),
    linkDocs: $('link-docs'),
    linkMetrics: $('link-metrics'),
    keyPanel: $('key-panel'),
    keyForm: $('key-form'),
    keyInput: $('key-input'),
    keyForget: $('key-forget'),
    keyState: $('key-state'),
    sessionId: $('session-id'),
    newSession: $('new-session'),
    log: $('log'),
    empty: $('empty'),
    composer: $('composer'),
    message: $('message'),
    send: $('send'),
    notes: $('notes'),
  };
  let config = { auth: false, docs: false, metrics: false, dashboards: [] };
  let busy = false;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function store(storage, name, value) {
    try {
      if (value === null) storage.removeItem(name);
      else storage.setItem(name, value);
    } catch {
      // storage refused (private mode, quota): the page still works for this load
    }
  }
  function read(storage, name) {
    try {
      return storage.getItem(name);
    } catch {
      return null;
    }
  }

  const apiKey = () => read(sessionStorage, KEY_STORAGE);
  const sessionId = () => read(sessionStorage, SESSION_STORAGE);

  function setSession(id) {
    store(sessionStorage, SESSION_STORAGE, id);
    ui.sessionId.textContent = id || 'new';
  }

  function headers(extra) {
    const all = { Accept: 'application/json', ...extra };
    const key = apiKey();
    if (key) all.Authorization = `Bearer ${key}`;
    return all;
  }

  function scrollToEnd() {
    ui.composer.scrollIntoView({ block: 'end' });
  }

  // ---------------------------------------------------------------- messages --

  function addMessage(role, text) {
    ui.empty.hidden = true;
    const item = el('li', `msg ${role}`);
    item.append(el('div', 'who', role === 'user' ? 'You' : 'Agent'));
    const body = el('div', 'text', text);
    item.append(body);
    ui.log.append(item);
    scrollToEnd();
    return { item, body };
  }

  function addPendingAnswer() {
    const { item, body } = addMessage('assistant', '');
    const tools = el('ul', 'tools');
    tools.setAttribute('aria-label', 'Tool calls');
    item.insertBefore(tools, body);
    body.classList.add('pending');
    const text = document.createTextNode('');
    body.append(text);
    return { item, body, tools, text };
  }

  function copyButton(value) {
    const button = el('button', 'secondary small', 'copy');
    button.type = 'button';
    button.setAttribute('aria-label', 'Copy the trace id');
    button.addEventListener('click', () => {
      const done = () => {
        button.textContent = 'copied';
      };
      const select = () => {
        // No clipboard (not a secure context, or refused): select it for Ctrl+C.
        const range = document.createRange();
        range.selectNodeContents(button.previousElementSibling);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = 'selected';
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(value).then(done, select);
      } else {
        select();
      }
    });
    return button;
  }

  function captionPart(label, value, copyable) {
    const part = el('span');
    part.append(document.createTextNode(`${label} `));
    const code = el('code', '', value);
    part.append(code);
    if (copyable) part.append(copyButton(value));
    return part;
  }

  function caption(item, fields) {
    const box = el('div', 'caption');
    for (const [label, value, copyable, name] of fields) {
      if (value === undefined || value === null || value === '') continue;
      const part = captionPart(label, String(value), copyable);
      if (name) part.dataset.field = name;
      box.append(part);
    }
    item.append(box);
  }

  function describeError(error, status, retryAfter) {
    const code = error && typeof error.code === 'string' ? error.code : `http_${status}`;
    const message = error && typeof error.message === 'string' ? error.message : 'no details';
    const lines = [`${status ? `${status} ` : ''}${code}: ${message}`];
    if (error && Array.isArray(error.details)) {
      for (const d of error.details) {
        if (d && typeof d === 'object') lines.push(`${String(d.field)}: ${String(d.reason)}`);
      }
    }
    if (HINTS[code]) lines.push(HINTS[code]);
    if (retryAfter) lines.push(`Retry after ${retryAfter} s.`);
    return { code, text: lines.join('\n') };
  }

  function showError(target, text, fields) {
    let item = target && target.item;
    if (item) {
      item.className = 'msg error';
      item.querySelector('.who').textContent = 'Error';
      target.body.classList.remove('pending');
      target.body.textContent = text;
    } else {
      item = addMessage('error', text).item;
      item.querySelector('.who').textContent = 'Error';
    }
    item.setAttribute('role', 'alert');
    if (fields) caption(item, fields);
    scrollToEnd();
  }

  // A non-2xx answer: the contract's JSON error, or whatever a proxy sent instead.
  async function errorOf(response) {
    let body;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    const error = body && typeof body.error === 'object' ? body.error : undefined;
    return describeError(
      error || { code: `http_${response.status}`, message: response.statusText || 'unexpected answer' },
      response.status,
      response.headers.get('Retry-After'),
    );
  }

  function idFields(response, traceId) {
    return [
      ['trace', traceId || response.headers.get('X-Trace-Id'), true, 'trace'],
      ['request', response.headers.get('X-Request-ID'), false, 'request'],
    ];
  }

  // ------------------------------------------------------------------ stream --

  // Server-sent events from a fetch body: blocks separated by a blank line,
  // "event:" and "data:" lines (data is JSON in this contract).
  async function* sseEvents(response) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut = buffer.indexOf('\n\n');
      while (cut !== -1) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = 'message';
        const data = [];
        for (const raw of block.split('\n')) {
          const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length) yield { event, data: JSON.parse(data.join('\n')) };
        cut = buffer.indexOf('\n\n');
      }
    }
  }

  function addTool(answer, data) {
    const status = data.status === 'ok' ? 'ok' : 'error';
    const tool = el('li', `tool ${status}`, `${String(data.name)} \u00b7 ${status}`);
    tool.dataset.tool = String(data.name);
    answer.tools.append(tool);
  }

  function finish(answer, data, response) {
    answer.body.classList.remove('pending');
    answer.body.textContent = String(data.answer ?? '');
    const usage = data.usage || {};
    caption(answer.item, [
      ['latency', `${Math.round(Number(data.latency_ms) || 0)} ms`, false, 'latency'],
      ['tokens', `${usage.input_tokens ?? '?'} in / ${usage.output_tokens ?? '?'} out`, false, 'tokens'],
      ...idFields(response, data.trace_id),
    ]);
    if (typeof data.session_id === 'string') setSession(data.session_id);
  }

  async function send(message) {
    addMessage('user', message);
    const answer = addPendingAnswer();
    const body = { message };
    const session = sessionId();
    if (session) body.session_id = session;
    let response;
    try {
      response = await fetch('v1/chat/stream', {
        method: 'POST',
        headers: headers({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
        body: JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (error) {
      showError(answer, `Could not reach the service (${error.message}).`);
      return;
    }
    if (!response.ok) {
      const error = await errorOf(response);
      showError(answer, error.text, idFields(response));
      if (error.code === 'unauthorized') askForKey();
      return;
    }
    let ended = false;
    try {
      for await (const { event, data } of sseEvents(response)) {
        if (event === 'token') {
          answer.text.appendData(String(data.delta ?? ''));
          scrollToEnd();
        } else if (event === 'tool') {
          addTool(answer, data);
        } else if (event === 'done') {
          finish(answer, data, response);
          ended = true;
          break;
        } else if (event === 'error') {
          showError(answer, describeError(data, 0).text, idFields(response, data.trace_id));
          ended = true;
          break;
        }
      }
    } catch (error) {
      // a dropped connection or a body that is not the contract's stream
      showError(answer, `The stream broke off before the answer was complete (${error.message}).`, idFields(response));
      return;
    }
    if (!ended) {
      showError(answer, 'The stream ended before the answer was complete (the connection dropped).', idFields(response));
    }
  }

  // ----------------------------------------------------------------- history --

  async function restoreHistory() {
    const session = sessionId();
    if (!session) return;
    if (config.auth && !apiKey()) {
      ui.keyState.textContent = 'Enter the key to load this session.';
      return;
    }
    let response;
    try {
      response = await fetch(`v1/sessions/${encodeURIComponent(session)}`, { headers: headers(), cache: 'no-store' });
    } catch (error) {
      showError(null, `Could not load the session's history (${error.message}).`);
      return;
    }
    if (response.status === 404) {
      setSession(null);
      showError(null, 'This session is gone from the service (expired, trimmed or the service restarted): a new one starts with the next message.');
      return;
    }
    if (!response.ok) {
      const error = await errorOf(response);
      showError(null, error.text, idFields(response));
      if (error.code === 'unauthorized') askForKey();
      return;
    }
    const history = await response.json();
    ui.log.replaceChildren();
    for (const m of history.messages || []) {
      const role = m.role === 'user' ? 'user' : 'assistant';
      const { item } = addMessage(role, String(m.content ?? ''));
      item.dataset.restored = 'true';
      item.querySelector('.who').append(document.createTextNode(' \u00b7 from the session history'));
    }
  }

  // -------------------------------------------------------------------- auth --

  function askForKey() {
    if (!config.auth) return;
    ui.keyPanel.hidden = false;
    ui.keyInput.focus();
  }

  function showKeyState() {
    const hasKey = Boolean(apiKey());
    ui.keyState.textContent = hasKey ? 'A key is set for this tab.' : 'No key set yet.';
    ui.keyForget.hidden = !hasKey;
  }

  // --------------------------------------------------------------------- init --

  function showNotes() {
    ui.notes.replaceChildren();
    if (config.dashboards && config.dashboards.length) {
      ui.notes.append(document.createTextNode('With the compose stack (docker compose --profile observability up): '));
      for (const { name, url } of config.dashboards) {
        const link = el('a', '', `${name} ${url}`);
        link.href = String(url);
        link.rel = 'noreferrer';
        ui.notes.append(link);
      }
    }
  }

  async function loadConfig() {
    try {
      const response = await fetch('playground/config.json', { cache: 'no-store' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      config = await response.json();
    } catch (error) {
      showError(null, `Could not read the playground's configuration (${error.message}).`);
    }
    ui.serviceName.textContent = String(config.service || 'Agent service');
    document.title = `${ui.serviceName.textContent} playground`;
    ui.linkDocs.hidden = !config.docs;
    ui.linkMetrics.hidden = !config.metrics;
    ui.keyPanel.hidden = !config.auth;
    if (config.auth) showKeyState();
    showNotes();
  }

  async function submit() {
    const message = ui.message.value;
    if (busy || !message.trim()) return;
    busy = true;
    ui.send.disabled = true;
    ui.message.value = '';
    try {
      await send(message);
    } finally {
      busy = false;
      ui.send.disabled = false;
      ui.message.focus();
    }
  }

  ui.composer.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  ui.message.addEventListener('keydown', (event) => {
    // Enter sends, Shift+Enter is a new line; never while an IME composes.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  ui.keyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = ui.keyInput.value.trim();
    ui.keyInput.value = '';
    if (!key) return;
    store(sessionStorage, KEY_STORAGE, key);
    showKeyState();
    ui.message.focus();
    if (sessionId() && !ui.log.children.length) restoreHistory();
  });
  ui.keyForget.addEventListener('click', () => {
    store(sessionStorage, KEY_STORAGE, null);
    showKeyState();
    ui.keyInput.focus();
  });
  ui.newSession.addEventListener('click', () => {
    setSession(null);
    ui.log.replaceChildren();
    ui.empty.hidden = false;
    ui.message.focus();
  });

  (async () => {
    setSession(sessionId());
    await loadConfig();
    await restoreHistory();
    document.body.dataset.ready = 'true';
    if (config.auth && !apiKey()) ui.keyInput.focus();
    else ui.message.focus();
  })();
})();
