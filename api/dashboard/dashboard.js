/*
 * The pipeline dashboard: plain browser JS, no build step. Figures come from the persisted
 * DashboardStats query (POST /graphql, every 2 s); batch stages arrive live through the persisted
 * BatchEvents subscription (graphql-ws on the same /graphql path). Only indexes, hashes and counts
 * are shown.
 *
 * For tests: body[data-live] is connecting | connected | reconnecting; body[data-stats] is
 * loading | ok | error; each batch row is <tr data-batch="N" data-stage="STAGE">.
 */
'use strict';

(function () {
  const STATS_EVERY_MS = 2_000;
  const MAX_ROWS = 15;
  const MAX_LOG = 20;
  /** A batch moves forward only; FAILED ends it unless it finalizes after all. */
  const RANK = { SEQUENCED: 0, PROVING: 1, PROVEN: 2, SUBMITTED: 3, FAILED: 4, FINALIZED: 5, RELAYED: 6 };

  const graphqlUrl = new URL('../graphql', window.location.href);
  const wsUrl = new URL(graphqlUrl.href);
  wsUrl.protocol = graphqlUrl.protocol === 'https:' ? 'wss:' : 'ws:';

  const $ = (id) => document.getElementById(id);
  /** batch index -> { index, stage, txCount, l1Block, l1TxHash, proveMs } */
  const batches = new Map();

  // ------------------------------------------------------------------------------------------
  // Formatting

  const abbreviate = (s, head = 6, tail = 4) => (s && s.length > head + tail + 1 ? `${s.slice(0, head)}…${s.slice(-tail)}` : s || '—');
  const count = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : '—');
  const duration = (ms) => (typeof ms === 'number' ? (ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(1)} s`) : '—');
  const clock = (ms) => new Date(ms).toLocaleTimeString('en-GB', { hour12: false });

  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children || []) node.append(child);
    return node;
  }

  function badge(stage) {
    return el('span', { className: `badge stage-${stage.toLowerCase()}`, textContent: stage });
  }

  // ------------------------------------------------------------------------------------------
  // GraphQL over HTTP (persisted operations: hash first, the text only when the server asks)

  let operations;

  async function loadOperations() {
    const res = await fetch('operations.json', { cache: 'no-store' });
    if (!res.ok) throw new Error(`operations.json: HTTP ${res.status}`);
    operations = await res.json();
  }

  const codes = (body) => (body && Array.isArray(body.errors) ? body.errors.map((e) => e.extensions && e.extensions.code) : []);

  async function post(body) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), 10_000);
    try {
      const res = await fetch(graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
        body: JSON.stringify(body),
        signal: ctrl.signal,
      });
      let json;
      try {
        json = await res.json();
      } catch {
        throw new Error(`HTTP ${res.status}`);
      }
      return json;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves with { data, errors } (data may be null or partial); throws when there is neither. */
  async function runPersisted(name) {
    const op = operations[name];
    const extensions = { persistedQuery: { version: 1, sha256Hash: op.sha256Hash } };
    let body = await post({ operationName: name, extensions });
    if (codes(body).includes('PERSISTED_QUERY_NOT_FOUND')) {
      body = await post({ operationName: name, query: op.query, extensions });
    }
    if (!body || (!body.data && !Array.isArray(body.errors))) throw new Error('the API answered neither data nor errors');
    return { data: body.data || null, errors: body.errors || [] };
  }

  const describeError = (e) => `${e.message}${e.extensions && e.extensions.code ? ` (${e.extensions.code})` : ''}`;

  // ------------------------------------------------------------------------------------------
  // Figures

  function setFlag(id, ok, yes, no) {
    const node = $(id);
    node.dataset.ok = String(ok);
    node.textContent = ok ? yes : no;
  }

  function setQueue(id, counts) {
    for (const b of $(id).querySelectorAll('b[data-q]')) b.textContent = counts ? count(counts[b.dataset.q]) : '—';
  }

  function renderStats(data) {
    const s = data.stats;
    setFlag('sequencer', s.sequencerReachable, 'reachable', 'unreachable');
    setFlag('indexer', s.indexerReady, 'ready', 'not ready');
    $('open-batch').textContent = s.openBatch === null ? '—' : `#${s.openBatch} · ${count(s.openBatchTxs)} tx${s.openBatchTxs === 1 ? '' : 's'}`;
    const root = $('state-root');
    root.textContent = abbreviate(s.stateRoot, 8, 6);
    root.title = s.stateRoot || '';
    $('finalized').textContent = count(s.finalizedBatches);
    $('throughput').textContent = s.throughput.toFixed(2);
    setQueue('prove-queue', s.proveQueue);
    setQueue('settle-queue', s.settleQueue);

    // Finalized batches from the indexer: fills in what the socket missed (or before it connected).
    for (const edge of data.batches ? data.batches.edges : []) {
      const b = edge.node;
      merge({ batch: b.index, stage: 'FINALIZED', txCount: b.txCount, l1Block: b.l1Block, l1TxHash: b.l1TxHash });
    }
    renderBatches();
  }

  function showStatsError(text) {
    document.body.dataset.stats = 'error';
    const msg = $('stats-error');
    msg.textContent = text;
    msg.hidden = false;
  }

  async function refreshStats() {
    try {
      if (!operations) await loadOperations();
      const { data, errors } = await runPersisted('DashboardStats');
      if (data && data.stats) {
        renderStats(data);
        $('updated').textContent = `Figures updated ${clock(Date.now())}`;
      } else {
        $('updated').textContent = `Figures unavailable (checked ${clock(Date.now())})`;
        // batches (and so the whole answer) fails when the indexer is down: say so.
        const indexerDown = errors.some((e) => e.extensions && e.extensions.code === 'UNAVAILABLE' && e.path && e.path[0] === 'batches');
        if (indexerDown) setFlag('indexer', false, 'ready', 'unreachable');
      }
      if (errors.length === 0) {
        document.body.dataset.stats = 'ok';
        $('stats-error').hidden = true;
      } else {
        showStatsError(`Some figures are unavailable: ${errors.map(describeError).join('; ')}`);
      }
    } catch (err) {
      showStatsError(`Could not load the figures: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  function pollStats() {
    refreshStats().finally(() => setTimeout(pollStats, STATS_EVERY_MS));
  }

  // ------------------------------------------------------------------------------------------
  // Batches table

  /** Folds an event (or an indexed batch) into its row; returns true when the stage changed. */
  function merge(e) {
    const row = batches.get(e.batch) || { index: e.batch, stage: e.stage };
    const moved = !batches.has(e.batch) || RANK[e.stage] > RANK[row.stage];
    if (moved) row.stage = e.stage;
    // A relayed event's block and transaction are the partner chain's: the row keeps L1's.
    const keys = e.stage === 'RELAYED' ? ['txCount', 'proveMs'] : ['txCount', 'l1Block', 'l1TxHash', 'proveMs'];
    for (const key of keys) {
      if (e[key] !== null && e[key] !== undefined) row[key] = e[key];
    }
    batches.set(e.batch, row);
    return moved;
  }

  function renderBatches() {
    const newest = [...batches.keys()].sort((a, b) => b - a);
    for (const old of newest.slice(MAX_ROWS)) batches.delete(old);
    const rows = newest.slice(0, MAX_ROWS).map((index) => {
      const b = batches.get(index);
      const tr = el('tr', {}, [
        el('th', { scope: 'row', className: 'num', textContent: `#${b.index}` }),
        el('td', {}, [badge(b.stage)]),
        el('td', { className: 'num', textContent: count(b.txCount) }),
        el('td', { className: 'num', textContent: count(b.l1Block) }),
        el('td', {}, [el('code', { textContent: abbreviate(b.l1TxHash), title: b.l1TxHash || '' })]),
        el('td', { className: 'num', textContent: duration(b.proveMs) }),
      ]);
      tr.dataset.batch = String(b.index);
      tr.dataset.stage = b.stage;
      return tr;
    });
    if (rows.length === 0) rows.push(el('tr', { className: 'empty' }, [el('td', { colSpan: 6, textContent: 'No batches yet.' })]));
    $('batch-rows').replaceChildren(...rows);
  }

  // ------------------------------------------------------------------------------------------
  // Event log

  function logLine(at, parts, kind) {
    const item = el('li', { className: kind || '' }, [el('time', { dateTime: new Date(at).toISOString(), textContent: clock(at) }), ...parts]);
    const log = $('log');
    log.prepend(item);
    while (log.children.length > MAX_LOG) log.lastElementChild.remove();
  }

  function logEvent(e) {
    const parts = [el('span', { className: 'what', textContent: `Batch #${e.batch}` }), badge(e.stage)];
    const details = [];
    if (typeof e.txCount === 'number') details.push(`${e.txCount} txs`);
    if (typeof e.proveMs === 'number') details.push(`proved in ${duration(e.proveMs)}`);
    if (typeof e.l1Block === 'number') details.push(typeof e.chainId === 'number' ? `chain ${e.chainId} block ${e.l1Block}` : `L1 block ${e.l1Block}`);
    if (e.l1TxHash) details.push(`tx ${abbreviate(e.l1TxHash)}`);
    details.push(`via ${e.source}`);
    parts.push(el('span', { className: 'details', textContent: details.join(' · ') }));
    logLine(e.at || Date.now(), parts);
  }

  // ------------------------------------------------------------------------------------------
  // Live batch events over graphql-ws

  let everConnected = false;

  function setLive(state) {
    document.body.dataset.live = state;
    $('live-text').textContent = state === 'connected' ? 'live' : state === 'reconnecting' ? 'reconnecting…' : 'connecting…';
  }

  function subscribe() {
    const op = operations.BatchEvents;
    const client = graphqlWs.createClient({
      url: wsUrl.href,
      lazy: false,
      retryAttempts: Infinity,
      shouldRetry: () => true,
      // Capped backoff: the default doubles without limit.
      retryWait: (retries) => new Promise((r) => setTimeout(r, Math.min(1_000 * 2 ** retries, 10_000) + Math.random() * 500)),
      on: {
        connecting: () => setLive(everConnected ? 'reconnecting' : 'connecting'),
        connected: () => {
          const again = everConnected;
          everConnected = true;
          setLive('connected');
          logLine(Date.now(), [el('span', { className: 'what', textContent: again ? 'Reconnected to the event stream' : 'Connected to the event stream' })], 'note');
          if (again) refreshStats();
        },
        closed: () => {
          if (document.body.dataset.live === 'connected') {
            logLine(Date.now(), [el('span', { className: 'what', textContent: 'Event stream lost; reconnecting' })], 'note');
          }
          setLive(everConnected ? 'reconnecting' : 'connecting');
        },
      },
    });
    let restarted = false;
    const restart = (why) => {
      if (restarted) return;
      restarted = true;
      logLine(Date.now(), [el('span', { className: 'what', textContent: `Event stream ended (${why}); restarting` })], 'note');
      setLive(everConnected ? 'reconnecting' : 'connecting');
      client.dispose();
      setTimeout(subscribe, 3_000);
    };
    client.subscribe(
      { query: op.query, operationName: 'BatchEvents' },
      {
        next: (result) => {
          const e = result.data && result.data.batchEvents;
          if (!e) return;
          merge(e);
          renderBatches();
          logEvent(e);
        },
        error: (err) => restart(describe(err)),
        complete: () => restart('completed'),
      },
    );
  }

  function describe(err) {
    if (Array.isArray(err)) return err.map((e) => e.message).join('; ');
    if (err && typeof err.code === 'number') return `closed ${err.code}${err.reason ? `: ${err.reason}` : ''}`;
    return err instanceof Error ? err.message : 'error';
  }

  // ------------------------------------------------------------------------------------------

  async function start() {
    setLive('connecting');
    for (;;) {
      try {
        await loadOperations();
        break;
      } catch (err) {
        showStatsError(`Could not load the operations: ${err instanceof Error ? err.message : String(err)}; retrying`);
        await new Promise((r) => setTimeout(r, STATS_EVERY_MS));
      }
    }
    subscribe();
    pollStats();
  }

  start();
})();
