/**
 * The dashboard page: HTML, CSS and a small script, kept as strings so `tsc` emits them into
 * `dist` with the rest of the CLI (no build step, no framework, no external asset). The script
 * listens to `api/events` (server-sent events), redraws the tables and draws the shard lineage
 * as SVG. It builds the DOM with `textContent` only: lease keys and worker ids come from the
 * table and are never parsed as HTML.
 *
 * The script is plain ES2020 written without template literals, so it can sit in one here.
 * @module
 */

/** The page (`/`). */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kcl dashboard</title>
<link rel="stylesheet" href="app.css">
<script src="app.js" defer></script>
</head>
<body>
<header>
  <h1>kcl dashboard</h1>
  <span id="title" class="muted"></span>
  <span id="conn" class="pill wait">connecting…</span>
  <span id="updated" class="muted"></span>
</header>
<div id="error" class="banner" hidden></div>
<div id="warnings" class="banner warn" hidden></div>
<section id="cards" class="cards"></section>
<section>
  <h2>Shard lineage <span class="muted small">parents → children; y = hash-key range; colour = owner</span></h2>
  <div id="graph-wrap"><svg id="graph" role="img" aria-label="shard lineage"></svg></div>
  <div id="legend" class="legend"></div>
</section>
<section>
  <h2>Shards</h2>
  <table id="shards">
    <thead><tr>
      <th>shard</th><th>state</th><th>owner</th><th>checkpoint</th>
      <th title="time since this dashboard saw the checkpoint move">checkpoint unchanged</th>
      <th>lease counter</th>
      <th title="time since this dashboard saw the lease counter change (renewals change it)">counter unchanged</th>
      <th>expiry</th><th title="ownerSwitchesSinceCheckpoint">switches</th><th>parents</th><th>children</th>
    </tr></thead>
    <tbody></tbody>
  </table>
  <p class="muted small">Records behind: unknown. Kinesis tells how far behind a reader is only in a GetRecords
  response (MillisBehindLatest), which this read-only page does not call; alarm on the workers'
  MillisBehindLatest metric. "Checkpoint unchanged" is how long this page has seen the checkpoint stay put:
  on a shard with traffic a growing value means the processor is not checkpointing; on an idle shard it grows too.
  "≥" means unchanged since the page started watching. Expiry is judged as the workers judge it: an owned lease
  whose counter has not changed for the lease duration.</p>
</section>
<section class="two">
  <div>
    <h2>Workers</h2>
    <table id="workers"><thead><tr><th>worker</th><th>leases</th><th></th><th>expired</th><th>handoffs</th></tr></thead><tbody></tbody></table>
  </div>
  <div>
    <h2>Invalid lease items</h2>
    <table id="invalid"><thead><tr><th>leaseKey</th><th>reason</th></tr></thead><tbody></tbody></table>
    <p class="muted small">Workers skip these items (nobody processes the shard) until they are fixed or deleted.</p>
  </div>
</section>
</body>
</html>
`;

/** The style sheet (`/app.css`). */
export const PAGE_CSS = `
:root { --fg: #1d2330; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; --card: #fff; --ok: #15803d; --warn: #b45309; --bad: #b91c1c; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 24px 40px; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 14px; flex-wrap: wrap; }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 15px; margin: 22px 0 8px; }
.muted { color: var(--muted); }
.small { font-size: 12px; font-weight: normal; }
.pill { padding: 2px 10px; border-radius: 999px; font-size: 12px; font-weight: 600; }
.pill.live { background: #dcfce7; color: var(--ok); }
.pill.wait { background: #fef3c7; color: var(--warn); }
.pill.bad { background: #fee2e2; color: var(--bad); }
.banner { margin-top: 10px; padding: 8px 12px; border-radius: 6px; background: #fee2e2; color: var(--bad); }
.banner.warn { background: #fef3c7; color: var(--warn); }
.cards { display: flex; gap: 10px; flex-wrap: wrap; margin-top: 14px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 110px; }
.card .v { font-size: 20px; font-weight: 650; }
.card .k { font-size: 12px; color: var(--muted); }
.card.good .v { color: var(--ok); } .card.warn .v { color: var(--warn); } .card.bad .v { color: var(--bad); }
#graph-wrap { background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: auto; padding: 8px; }
#graph { display: block; }
#graph .node rect { stroke: #94a3b8; stroke-width: 1.2; }
#graph .node.closed rect { fill: #e5e7eb !important; stroke: #f59e0b; stroke-dasharray: 4 3; stroke-width: 1.6; }
#graph .node.ended rect, #graph .node.gone rect { fill: #eef0f3 !important; stroke: #cbd5e1; }
#graph .node.ended text, #graph .node.gone text { fill: #9ca3af; }
#graph .node.nolease rect { fill: #fff !important; stroke-dasharray: 2 3; }
#graph .node.ended.nolease rect { fill: #f3f4f6 !important; }
#graph .node.expired rect { stroke: var(--bad); stroke-width: 2.5; }
#graph .node.handoff rect { stroke: #7c3aed; stroke-width: 2.2; }
#graph text { font-size: 12px; fill: var(--fg); }
#graph text.id { font-weight: 650; }
#graph .edge { fill: none; stroke: #cbd5e1; stroke-width: 1.5; }
#graph .edge.live { stroke: #64748b; }
#graph .axis { font-size: 10px; fill: var(--muted); }
.legend { display: flex; gap: 16px; flex-wrap: wrap; font-size: 12px; color: var(--muted); margin-top: 6px; }
.legend i { display: inline-block; width: 14px; height: 10px; border: 1px solid #94a3b8; margin-right: 4px; vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
tr.ended td, tr.gone td { color: #9ca3af; }
tr.closed td.state { color: var(--warn); font-weight: 600; }
tr.invalid td { color: var(--bad); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: 0; }
.bad { color: var(--bad); font-weight: 600; } .warn { color: var(--warn); } .ok { color: var(--ok); }
.bar { height: 8px; background: #94a3b8; border-radius: 4px; }
.two { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 24px; }
@media (max-width: 900px) { .two { grid-template-columns: 1fr; } }
`;

/** The script (`/app.js`). */
export const PAGE_JS = String.raw`'use strict';
(function () {
  var SVGNS = 'http://www.w3.org/2000/svg';
  var byId = function (id) { return document.getElementById(id); };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    setAll(node, attrs, children);
    return node;
  }
  function sv(tag, attrs, children) {
    var node = document.createElementNS(SVGNS, tag);
    setAll(node, attrs, children);
    return node;
  }
  function setAll(node, attrs, children) {
    // Styles through the CSSOM: the page's CSP forbids style attributes, not this.
    if (attrs) for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) {
      if (k === 'style') node.style.cssText = String(attrs[k]);
      else node.setAttribute(k, String(attrs[k]));
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function shortShard(id) {
    var m = /(\d+)$/.exec(id);
    return m ? 'shard-' + Number(m[1]) : id;
  }
  function fmtMs(ms) {
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 120000) return (ms / 1000).toFixed(1) + ' s';
    if (ms < 7200000) return Math.round(ms / 60000) + ' min';
    return (ms / 3600000).toFixed(1) + ' h';
  }
  function fmtAge(age) { return age ? (age.atLeast ? '≥ ' : '') + fmtMs(age.ms) : '–'; }
  function shortSeq(s) { return s.length > 18 ? '…' + s.slice(-14) : s; }
  // Owner colours: each worker keeps the hue it got when first seen; a new worker gets the first
  // hue no current worker has (a hash of its id once all ten are taken).
  var HUES = [215, 140, 330, 28, 265, 185, 48, 0, 245, 95];
  var hues = new Map();
  function assignHues(m) {
    var current = new Set();
    m.shards.forEach(function (s) { if (s.lease && s.lease.owner) current.add(s.lease.owner); if (s.lease && s.lease.handoffTo) current.add(s.lease.handoffTo); });
    m.workers.forEach(function (w) { current.add(w.workerId); });
    var ids = Array.from(current).sort();
    var used = new Set(ids.filter(function (id) { return hues.has(id); }).map(function (id) { return hues.get(id); }));
    ids.forEach(function (id) {
      if (hues.has(id)) return;
      var free = HUES.filter(function (h) { return !used.has(h); })[0];
      if (free === undefined) {
        free = 0;
        for (var i = 0; i < id.length; i++) free = (free * 31 + id.charCodeAt(i)) >>> 0;
        free = free % 360;
      }
      hues.set(id, free);
      used.add(free);
    });
  }
  function hue(id) { return hues.has(id) ? hues.get(id) : 210; }
  function strong(owner) { return 'hsl(' + hue(owner) + ' 60% 42%)'; }
  function light(owner) { return 'hsl(' + hue(owner) + ' 75% 88%)'; }
  function stateText(s) {
    if (!s.lease) return s.state === 'open' ? 'open, no lease yet' : s.state + ', no lease';
    if (s.state === 'closed') return 'closed, being read';
    return s.state;
  }
  // How a shard is drawn: a closed shard without a lease (finished and cleaned up, or never
  // leased) is read by nobody, so it is drawn like an ended one.
  function look(s) {
    if (s.state === 'closed' && !s.lease) return 'ended nolease';
    return s.state + (s.lease ? '' : ' nolease');
  }
  function reading(s) { return s.state === 'closed' && s.lease; }

  function card(value, label, tone) {
    return el('div', { class: 'card' + (tone ? ' ' + tone : '') }, [el('div', { class: 'v' }, [String(value)]), el('div', { class: 'k' }, [label])]);
  }

  function renderCards(m) {
    var cards = byId('cards');
    clear(cards);
    var count = function (st) { return m.shards.filter(function (s) { return s.state === st; }).length; };
    var open = count('open');
    cards.appendChild(card(open, 'open shards'));
    var draining = m.shards.filter(reading).length;
    cards.appendChild(card(draining, 'closed, being read', draining ? 'warn' : ''));
    cards.appendChild(card(count('ended') + m.shards.filter(function (s) { return s.state === 'closed' && !s.lease; }).length, 'ended / no lease'));
    cards.appendChild(card(m.workers.length, 'workers'));
    cards.appendChild(card(m.unowned.length, 'unowned', m.unowned.length ? 'warn' : 'good'));
    cards.appendChild(card(m.expired.length, 'expired', m.expired.length ? 'bad' : 'good'));
    cards.appendChild(card(m.invalid.length, 'invalid items', m.invalid.length ? 'bad' : 'good'));
    if (m.streamSummary) cards.appendChild(card(m.streamSummary.status, 'stream' + (m.streamSummary.mode ? ' (' + m.streamSummary.mode.toLowerCase().replace('_', '-') + ')' : ''), m.streamSummary.status === 'ACTIVE' ? 'good' : 'warn'));
    var r = m.reshard;
    if (r.complete !== null) {
      var detail = r.complete ? 'reshard: complete' : 'reshard: ' + [
        r.closedNotEnded.length ? r.closedNotEnded.length + ' parent(s) being read' : '',
        r.openWithoutLease.length ? r.openWithoutLease.length + ' child(ren) without lease' : '',
        m.streamSummary && m.streamSummary.status === 'UPDATING' ? 'stream updating' : '',
      ].filter(Boolean).join(', ');
      var c = card(r.complete ? 'done' : 'in progress', detail, r.complete ? 'good' : 'warn');
      c.id = 'reshard';
      cards.appendChild(c);
    }
  }

  var TWO128 = BigInt(2) ** BigInt(128);
  function middle(range) {
    if (!range) return null;
    try {
      var mid = (BigInt(range.startingHashKey) + BigInt(range.endingHashKey)) / BigInt(2);
      return Number((mid * BigInt(1000000)) / TWO128) / 1000000;
    } catch (e) { return null; }
  }

  function renderGraph(m) {
    var svg = byId('graph');
    clear(svg);
    var shards = m.shards;
    var index = new Map(shards.map(function (s) { return [s.shardId, s]; }));
    var gen = new Map();
    function depth(id, seen) {
      if (gen.has(id)) return gen.get(id);
      var s = index.get(id), d = 0;
      if (s) s.parents.forEach(function (p) {
        if (index.has(p) && !seen.has(p)) { seen.add(p); d = Math.max(d, depth(p, seen) + 1); seen.delete(p); }
      });
      gen.set(id, d);
      return d;
    }
    shards.forEach(function (s) { depth(s.shardId, new Set([s.shardId])); });
    // A node names its stream; two streams of one name (a re-created stream) add the creation epoch.
    var identifiersByName = new Map();
    shards.forEach(function (s) {
      if (!s.stream) return;
      var name = s.stream.split(':')[1];
      (identifiersByName.get(name) || identifiersByName.set(name, new Set()).get(name)).add(s.stream);
    });
    function streamLabel(id) {
      if (!id) return '';
      var parts = id.split(':');
      return parts[1] + (identifiersByName.get(parts[1]).size > 1 ? '@' + parts[2] : '') + ' ';
    }
    var columns = [];
    shards.forEach(function (s) {
      var g = gen.get(s.shardId);
      (columns[g] = columns[g] || []).push(s);
    });
    var W = 168, H = 42, GX = 64, GY = 8, PAD = 28;
    var tallest = Math.max.apply(null, columns.map(function (c) { return c ? c.length : 0; }).concat([1]));
    var span = Math.max(260, tallest * (H + GY) + 40);
    var pos = new Map();
    var bottom = 0;
    columns.forEach(function (col, g) {
      if (!col) return;
      var items = col.map(function (s, i) { var f = middle(s.hashKeyRange); return { s: s, f: f === null ? (i + 0.5) / col.length : f }; });
      items.sort(function (a, b) { return a.f - b.f || a.s.shardId.localeCompare(b.s.shardId); });
      var prev = -Infinity;
      items.forEach(function (it) {
        var y = Math.max(PAD + it.f * (span - H), prev + H + GY);
        prev = y;
        pos.set(it.s.shardId, { x: PAD + 30 + g * (W + GX), y: y });
        bottom = Math.max(bottom, y + H);
      });
    });
    var width = PAD * 2 + 30 + Math.max(1, columns.length) * (W + GX) - GX;
    var height = Math.max(bottom, span) + PAD;
    svg.setAttribute('width', String(width));
    svg.setAttribute('height', String(height));
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    svg.appendChild(sv('text', { class: 'axis', x: 4, y: PAD + 4 }, ['hash 0']));
    svg.appendChild(sv('text', { class: 'axis', x: 4, y: PAD + span - H + 4 }, ['2^128']));
    shards.forEach(function (s) {
      var to = pos.get(s.shardId);
      s.parents.forEach(function (p) {
        var from = pos.get(p);
        if (!from || !to) return;
        var x1 = from.x + W, y1 = from.y + H / 2, x2 = to.x, y2 = to.y + H / 2;
        svg.appendChild(sv('path', {
          class: 'edge' + (s.state === 'open' || reading(s) ? ' live' : ''),
          'data-edge': p + '>' + s.shardId,
          d: 'M' + x1 + ' ' + y1 + ' C' + (x1 + GX / 2) + ' ' + y1 + ' ' + (x2 - GX / 2) + ' ' + y2 + ' ' + x2 + ' ' + y2,
        }));
      });
    });
    shards.forEach(function (s) {
      var p = pos.get(s.shardId);
      var l = s.lease;
      var owner = l && l.owner;
      var cls = 'node ' + look(s) + (l && l.expired ? ' expired' : '') + (l && l.handoffTo ? ' handoff' : '');
      var second = !l ? (s.state === 'open' ? 'no lease yet' : s.state + ', no lease') : s.state === 'ended' ? 'ended' : (owner || 'free') + (l.handoffTo ? ' → ' + l.handoffTo : '') + (s.state === 'closed' ? ' (closed)' : '');
      var tip = s.shardId + '\nstate: ' + stateText(s) + (l ? '\nowner: ' + (owner || '-') + '\ncheckpoint: ' + l.checkpoint : '');
      svg.appendChild(sv('g', { class: cls, 'data-shard': s.shardId, 'data-state': s.state, 'data-owner': owner || '' }, [
        sv('title', null, [tip]),
        sv('rect', { x: p.x, y: p.y, width: W, height: H, rx: 6, style: 'fill:' + (owner && s.state !== 'ended' ? light(owner) : '#ffffff') }),
        owner && s.state !== 'ended' ? sv('rect', { x: p.x, y: p.y, width: 5, height: H, rx: 2, style: 'fill:' + strong(owner) + ';stroke:none' }) : null,
        sv('text', { class: 'id', x: p.x + 12, y: p.y + 17 }, [streamLabel(s.stream) + shortShard(s.shardId)]),
        sv('text', { x: p.x + 12, y: p.y + 33 }, [second.length > 24 ? second.slice(0, 23) + '…' : second]),
      ]));
    });
    var legend = byId('legend');
    clear(legend);
    [['open (owner colour)', 'background:#dbeafe'], ['closed, being read', 'background:#e5e7eb;border:1px dashed #f59e0b'], ['ended (SHARD_END)', 'background:#eef0f3;border-color:#cbd5e1'],
      ['no lease yet', 'background:#fff;border-style:dashed'], ['expired', 'border:2px solid #b91c1c'], ['handoff pending', 'border:2px solid #7c3aed']].forEach(function (x) {
      legend.appendChild(el('span', null, [el('i', { style: x[1] }), x[0]]));
    });
  }

  function renderShards(m) {
    var body = byId('shards').tBodies[0];
    clear(body);
    m.shards.forEach(function (s) {
      var l = s.lease;
      var owner = l && l.owner;
      var ownerCell = el('td', { class: 'owner' }, owner ? [el('span', { class: 'swatch', style: 'background:' + strong(owner) }), owner] : ['–']);
      if (l && l.handoffTo) ownerCell.appendChild(el('span', { class: 'warn', title: 'graceful handoff pending' }, [' → ' + l.handoffTo]));
      var expiry = !l || s.state === 'ended' ? '–' : !owner ? 'free' : l.expired === true ? 'EXPIRED' : l.expired === null ? 'watching…' : 'live';
      var cp = l ? l.checkpoint + (l.pendingCheckpoint ? ' (pending ' + l.pendingCheckpoint + ')' : '') : '–';
      body.appendChild(el('tr', { class: look(s), 'data-shard': s.shardId, 'data-state': s.state, 'data-owner': owner || '', 'data-lease': l ? 'yes' : 'no' }, [
        el('td', { class: 'mono', title: s.shardId }, [s.shardId]),
        el('td', { class: 'state' }, [stateText(s)]),
        ownerCell,
        el('td', { class: 'mono', title: cp }, [l ? shortSeq(l.checkpoint) + (l.pendingCheckpoint ? ' (pending)' : '') : '–']),
        el('td', null, [l ? fmtAge(l.checkpointAge) : '–']),
        el('td', { class: 'mono' }, [l ? String(l.leaseCounter) : '–']),
        el('td', null, [l ? fmtAge(l.leaseAge) : '–']),
        el('td', { class: 'expiry ' + (expiry === 'EXPIRED' ? 'bad' : expiry === 'live' ? 'ok' : '') }, [expiry]),
        el('td', { class: l && l.ownerSwitchesSinceCheckpoint > 0 ? 'warn' : '' }, [l ? String(l.ownerSwitchesSinceCheckpoint) : '–']),
        el('td', { class: 'mono' }, [s.parents.map(shortShard).join(', ') || '–']),
        el('td', { class: 'mono' }, [s.children.map(shortShard).join(', ') || '–']),
      ]));
    });
  }

  function renderWorkers(m) {
    var body = byId('workers').tBodies[0];
    clear(body);
    var most = Math.max.apply(null, m.workers.map(function (w) { return w.leases; }).concat([1]));
    if (!m.workers.length) body.appendChild(el('tr', null, [el('td', { colspan: 5, class: 'muted' }, ['no worker owns a lease'])]));
    m.workers.forEach(function (w) {
      body.appendChild(el('tr', { 'data-worker': w.workerId }, [
        el('td', null, [el('span', { class: 'swatch', style: 'background:' + strong(w.workerId) }), w.workerId]),
        el('td', { class: 'leases' }, [String(w.leases)]),
        el('td', { style: 'width:40%' }, [el('div', { class: 'bar', style: 'width:' + Math.round((100 * w.leases) / most) + '%;background:' + strong(w.workerId) })]),
        el('td', { class: w.expired ? 'bad' : '' }, [String(w.expired)]),
        el('td', null, [String(w.handoffs)]),
      ]));
    });
  }

  function renderInvalid(m) {
    var body = byId('invalid').tBodies[0];
    clear(body);
    if (!m.invalid.length) body.appendChild(el('tr', null, [el('td', { colspan: 2, class: 'muted' }, ['none'])]));
    m.invalid.forEach(function (item) {
      body.appendChild(el('tr', { class: 'invalid', 'data-invalid': item.leaseKey || '' }, [
        el('td', { class: 'mono' }, [item.leaseKey || '(no leaseKey)']),
        el('td', null, [item.reason]),
      ]));
    });
  }

  function showBanner(id, text) {
    var b = byId(id);
    b.hidden = !text;
    b.textContent = text || '';
  }

  function render(m) {
    byId('title').textContent = 'application ' + m.application + ' · table ' + m.table + (m.stream ? ' · stream ' + m.stream : ' · no stream (lineage from the lease table)');
    byId('updated').textContent = 'updated ' + new Date(m.generatedAt).toLocaleTimeString() + ' · watching for ' + fmtMs(m.watchingForMs) + ' · lease duration ' + fmtMs(m.leaseDurationMs);
    showBanner('error', m.error ? 'The last update failed (showing the previous one): ' + m.error : '');
    showBanner('warnings', m.warnings.join(' · '));
    assignHues(m);
    renderCards(m);
    renderGraph(m);
    renderShards(m);
    renderWorkers(m);
    renderInvalid(m);
    document.body.setAttribute('data-generated-at', String(m.generatedAt));
  }

  function setConn(text, tone) {
    var c = byId('conn');
    c.textContent = text;
    c.className = 'pill ' + tone;
  }

  var source = new EventSource('api/events');
  source.addEventListener('open', function () { setConn('live', 'live'); });
  source.addEventListener('error', function () { setConn('reconnecting…', 'wait'); });
  source.addEventListener('model', function (e) {
    setConn('live', 'live');
    render(JSON.parse(e.data));
  });
  source.addEventListener('failure', function (e) {
    setConn('no data', 'bad');
    showBanner('error', 'Cannot read the lease table: ' + JSON.parse(e.data).error);
  });
})();
`;
