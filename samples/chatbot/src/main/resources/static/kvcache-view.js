'use strict';

// The live view of the cache: the model line in the header (/api/model), and after every turn the
// conversation's heatmap (layers × KV heads, coloured by policy) and a point on the chart of memory
// held against what the full fp16 cache would hold. Drawn in SVG by hand: the page loads nothing
// from elsewhere.
const KvcacheView = (() => {
  const SVG = 'http://www.w3.org/2000/svg';
  const heatmap = document.getElementById('heatmap');
  const legend = document.getElementById('legend');
  const hint = document.getElementById('heatmap-hint');
  const chart = document.getElementById('memory-chart');
  const memorySummary = document.getElementById('memory-summary');

  // One colour per policy name. FastGen's ladder (adaptive) runs from cheap (green) to full (purple).
  const POLICY_COLOURS = {
    'special': '#1b9e77',
    'special+punctuation': '#66a61e',
    'special+punctuation+frequency': '#e6ab02',
    'special+punctuation+frequency+local': '#d95f02',
    'full': '#7570b3',
    'full (not yet profiled)': '#b3b0d6',
    'window': '#1f78b4',
    'heavy-hitter': '#e7298a',
    'mixed-precision': '#a6761d',
    'span': '#17becf',
  };

  let points = [];

  function colour(policy) {
    if (POLICY_COLOURS[policy]) {
      return POLICY_COLOURS[policy];
    }
    let hash = 0;
    for (const c of policy) {
      hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
    }
    return `hsl(${hash % 360}, 55%, 50%)`;
  }

  function element(name, attributes, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) {
      node.setAttribute(key, value);
    }
    parent.append(node);
    return node;
  }

  function text(parent, x, y, content, anchor = 'start') {
    element('text', {x, y, 'text-anchor': anchor}, parent).textContent = content;
  }

  function bytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB'];
    let value = n;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return (unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)) + ' ' + units[unit];
  }

  function percent(held, full) {
    return full === 0 ? '—' : Math.round(100 * held / full) + '%';
  }

  async function showModel() {
    const info = document.getElementById('model-info');
    try {
      const response = await fetch('api/model');
      if (!response.ok) {
        throw new Error(`${response.status}`);
      }
      const view = await response.json();
      const m = view.model;
      info.textContent = `${m.name} · ${m.architecture} ${m.quantization} · ${m.layers} layers × ${m.kvHeads} KV heads`
        + ` · context ${m.contextLength} · policy ${view.policy.policy} · ${view.backend.type}, ${view.backend.threads} threads`;
    } catch (error) {
      info.textContent = `/api/model is not reachable (${error.message}): it needs /actuator/kvcache, `
        + 'exposed with management.endpoints.web.exposure.include=kvcache';
    }
  }

  // Never throws: a view that cannot be read says so in the hint and leaves the reply alone.
  async function showTurn(kvcacheConversation) {
    let view;
    try {
      const response = await fetch('actuator/kvcache/' + encodeURIComponent(kvcacheConversation));
      if (response.status === 404) {
        hint.textContent = 'The cache of this conversation is no longer held: the store evicts conversations by size and age.';
        return;
      }
      if (!response.ok) {
        throw new Error(`${response.status} ${response.statusText}`);
      }
      view = await response.json();
    } catch (error) {
      hint.textContent = `/actuator/kvcache could not be read (${error.message}).`;
      return;
    }
    drawHeatmap(view.heads, view.tokens);
    points.push({turn: points.length + 1, held: view.totals.heldBytes, full: view.totals.fullBytes, tokens: view.tokens});
    drawChart();
  }

  function drawHeatmap(heads, tokens) {
    const layers = Math.max(...heads.map(h => h.layer)) + 1;
    const kvHeads = Math.max(...heads.map(h => h.kvHead)) + 1;
    const left = 34;
    const top = 16;
    const cellWidth = Math.max(10, Math.min(64, Math.floor(440 / layers)));
    const cellHeight = Math.max(14, Math.min(44, Math.floor(220 / kvHeads)));
    const width = left + layers * cellWidth + 4;
    const height = top + kvHeads * cellHeight + 4;
    heatmap.replaceChildren();
    heatmap.setAttribute('viewBox', `0 0 ${width} ${height}`);
    heatmap.setAttribute('width', width);
    heatmap.setAttribute('height', height);
    const labelEvery = Math.ceil(22 / cellWidth);
    for (let layer = 0; layer < layers; layer += labelEvery) {
      text(heatmap, left + layer * cellWidth + cellWidth / 2, top - 4, String(layer), 'middle');
    }
    for (let head = 0; head < kvHeads; head++) {
      text(heatmap, left - 6, top + head * cellHeight + cellHeight / 2 + 3, 'h' + head, 'end');
    }
    const policies = new Set();
    for (const h of heads) {
      policies.add(h.policy);
      const share = h.fullBytes === 0 ? 0 : Math.min(1, h.heldBytes / h.fullBytes);
      const cell = element('rect', {
        class: 'cell',
        x: left + h.layer * cellWidth,
        y: top + h.kvHead * cellHeight,
        width: cellWidth,
        height: cellHeight,
        fill: colour(h.policy),
        'fill-opacity': (0.3 + 0.7 * share).toFixed(2),
        'data-policy': h.policy,
        'data-layer': h.layer,
        'data-kv-head': h.kvHead,
      }, heatmap);
      const shared = h.sharedWith >= 0 ? `\nattends to layer ${h.sharedWith}'s cache` : '';
      element('title', {}, cell).textContent = `layer ${h.layer}, KV head ${h.kvHead}\npolicy: ${h.policy}${shared}\n`
        + `${h.entries} entries (${h.lowPrecision} low precision, ${h.merged} merged) of ${tokens} tokens\n`
        + `held ${bytes(h.heldBytes)} of ${bytes(h.fullBytes)} full (${percent(h.heldBytes, h.fullBytes)})`;
    }
    heatmap.dataset.layers = String(layers);
    heatmap.dataset.kvHeads = String(kvHeads);
    heatmap.dataset.turns = String(points.length + 1);
    hint.textContent = `${layers} layers × ${kvHeads} KV heads after ${tokens} tokens. Colour: the head's policy; `
      + 'shade: the share of the full cache it holds. Hover a cell for its entries and bytes.';
    legend.replaceChildren(...[...policies].sort().map(policy => {
      const item = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = colour(policy);
      item.append(swatch, policy);
      return item;
    }));
  }

  function drawChart() {
    const width = 460;
    const height = 200;
    const left = 58;
    const right = 12;
    const top = 12;
    const bottom = 30;
    const plotWidth = width - left - right;
    const plotHeight = height - top - bottom;
    const largest = Math.max(1, ...points.map(p => p.full), ...points.map(p => p.held));
    const step = tickStep(largest);
    const maxBytes = Math.ceil(largest / step) * step;
    const lastTurn = Math.max(2, points.length);
    const x = turn => left + (turn - 1) / (lastTurn - 1) * plotWidth;
    const y = value => top + plotHeight - value / maxBytes * plotHeight;
    chart.replaceChildren();
    chart.setAttribute('viewBox', `0 0 ${width} ${height}`);
    chart.setAttribute('width', width);
    chart.setAttribute('height', height);
    for (let value = 0; value <= maxBytes + step / 2; value += step) {
      element('line', {class: 'axis', x1: left, x2: width - right, y1: y(value), y2: y(value)}, chart);
      text(chart, left - 6, y(value) + 3, bytes(value), 'end');
    }
    const tickEvery = Math.ceil(lastTurn / 10);
    for (let turn = 1; turn <= lastTurn; turn += tickEvery) {
      text(chart, x(turn), height - bottom + 14, String(turn), 'middle');
    }
    text(chart, left + plotWidth / 2, height - 3, 'turn', 'middle');
    for (const series of ['full', 'held']) {
      element('polyline', {class: series, points: points.map(p => `${x(p.turn)},${y(p[series])}`).join(' ')}, chart);
      for (const p of points) {
        const dot = element('circle', {class: series, cx: x(p.turn), cy: y(p[series]), r: 3.5}, chart);
        element('title', {}, dot).textContent = `turn ${p.turn}, ${p.tokens} tokens: ${series} ${bytes(p[series])}`;
      }
    }
    const legendY = top + 10;
    element('line', {class: 'held', x1: left + 10, x2: left + 30, y1: legendY, y2: legendY}, chart);
    text(chart, left + 34, legendY + 3, 'held');
    element('line', {class: 'full', x1: left + 70, x2: left + 90, y1: legendY, y2: legendY}, chart);
    text(chart, left + 94, legendY + 3, 'full fp16 cache');
    chart.dataset.points = String(points.length);
    const last = points[points.length - 1];
    memorySummary.textContent = `${bytes(last.held)} of ${bytes(last.full)} (${percent(last.held, last.full)})`;
  }

  // A round step between grid lines (1, 2 or 5 times a power of ten of B, KiB or MiB, at least
  // 1 B) about a quarter of max.
  function tickStep(max) {
    const raw = Math.max(1, max / 4);
    const unit = raw >= 1024 * 1024 ? 1024 * 1024 : raw >= 1024 ? 1024 : 1;
    const scaled = raw / unit;
    const power = 10 ** Math.floor(Math.log10(scaled));
    const mantissa = scaled / power;
    const nice = mantissa <= 1 ? 1 : mantissa <= 2 ? 2 : mantissa <= 5 ? 5 : 10;
    return nice * power * unit;
  }

  function reset() {
    points = [];
    heatmap.replaceChildren();
    heatmap.removeAttribute('width');
    heatmap.removeAttribute('height');
    delete heatmap.dataset.turns;
    chart.replaceChildren();
    legend.replaceChildren();
    memorySummary.textContent = '';
    hint.textContent = 'Send a message to see this conversation\'s cache.';
  }

  return {showModel, showTurn, reset};
})();
