// Self-contained HTML reports: one file, inline CSS and script, no network (no CDN, fonts or images).
// Charts are described as data (ChartSpec) embedded in the page as JSON and drawn into inline SVG by
// the small script below when the page loads, so a headless browser can prove they render.

export interface Bar {
  label: string;
  value: number;
  /** Whisker from lo to hi (e.g. min..max of the repetitions). */
  range?: [number, number];
  /** A tick drawn across the bar (e.g. the bandwidth floor for this bar). */
  marker?: number;
}

export interface ChartSpec {
  id: string;
  title: string;
  unit: string;
  groups: Array<{ label: string; bars: Bar[] }>;
  /** Vertical reference lines across the whole chart (e.g. 1x real time). */
  refs?: Array<{ value: number; label: string }>;
  /** Legend text for markers. */
  markerLabel?: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** JSON safe inside <script type="application/json">: no "</script>", no HTML comment openers. */
function scriptJson(data: unknown): string {
  return JSON.stringify(data).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#1d2330}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;font-size:12px;margin:.5rem 0}td,th{border:1px solid #ccd;padding:3px 6px;text-align:right}
th{background:#eef}td:first-child,th:first-child,td:nth-child(2){text-align:left}
.chart svg{width:100%;height:auto;background:#fbfbfd;border:1px solid #e3e3ea}
.bar{fill:#4a78c2}.bar.b1{fill:#d9822b}.bar.b2{fill:#3c9a5f}.whisker{stroke:#222;stroke-width:1}
.marker{stroke:#c0392b;stroke-width:3}.ref{stroke:#888;stroke-dasharray:4 3}.grid{stroke:#e6e6ee}
text{font-size:11px;fill:#333}.note{color:#555}code{background:#f3f3f7;padding:1px 3px}
`;

/** Draws every ChartSpec found in #chart-data into the element with the spec's id. Plain ES2017. */
const DRAW = `
(function () {
  var NS = "http://www.w3.org/2000/svg";
  function el(parent, name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }
  function nice(max) {
    var p = Math.pow(10, Math.floor(Math.log10(max || 1))), m = max / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function draw(spec) {
    var host = document.getElementById(spec.id);
    if (!host) return;
    var rows = [];
    spec.groups.forEach(function (g) { g.bars.forEach(function (b, i) { rows.push({ g: g.label, b: b, i: i }); }); });
    var max = 0;
    rows.forEach(function (r) { max = Math.max(max, r.b.value, r.b.range ? r.b.range[1] : 0, r.b.marker || 0); });
    (spec.refs || []).forEach(function (r) { max = Math.max(max, r.value); });
    max = nice(max * 1.05);
    var left = 170, right = 30, top = 30, rowH = 22, W = 900, H = top + rows.length * rowH + 40;
    var svg = el(host, "svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": spec.title });
    var x = function (v) { return left + (v / max) * (W - left - right); };
    for (var t = 0; t <= 5; t++) {
      var v = (max * t) / 5, xx = x(v);
      el(svg, "line", { class: "grid", x1: xx, x2: xx, y1: top - 5, y2: H - 35 });
      el(svg, "text", { x: xx, y: H - 20, "text-anchor": "middle" }, (+v.toPrecision(3)).toString());
    }
    el(svg, "text", { x: W - right, y: H - 5, "text-anchor": "end" }, spec.unit);
    rows.forEach(function (r, k) {
      var y = top + k * rowH;
      el(svg, "text", { x: left - 6, y: y + 14, "text-anchor": "end" }, r.g + " · " + r.b.label);
      var bar = el(svg, "rect", { class: "bar b" + (r.i % 3), x: left, y: y + 3, width: Math.max(1, x(r.b.value) - left), height: rowH - 6 });
      el(bar, "title", {}, r.b.label + ": " + r.b.value.toPrecision(4) + " " + spec.unit);
      if (r.b.range) el(svg, "path", { class: "whisker", d: "M" + x(r.b.range[0]) + " " + (y + 11) + "H" + x(r.b.range[1]) });
      if (r.b.marker) el(svg, "path", { class: "marker", d: "M" + x(r.b.marker) + " " + (y + 1) + "V" + (y + rowH - 1) });
      var end = Math.max(r.b.value, r.b.range ? r.b.range[1] : 0);
      el(svg, "text", { x: x(end) + 4, y: y + 14 }, (+r.b.value.toPrecision(3)).toString());
    });
    (spec.refs || []).forEach(function (r) {
      el(svg, "path", { class: "ref", d: "M" + x(r.value) + " " + (top - 8) + "V" + (H - 35) });
      el(svg, "text", { x: x(r.value) + 3, y: top - 12 }, r.label);
    });
    if (spec.markerLabel) el(svg, "text", { x: left, y: 14 }, "red tick: " + spec.markerLabel);
  }
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  data.forEach(draw);
  document.body.setAttribute("data-charts-drawn", String(data.length));
})();
`;

export interface Page {
  title: string;
  /** Trusted HTML (built with escapeHtml by the caller); each chart needs a <div class="chart" id=...>. */
  body: string;
  charts: ChartSpec[];
}

export function renderPage(p: Page): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(p.title)}</title><style>${CSS}</style></head>
<body>
${p.body}
<noscript><p class="note">The charts are drawn by a script in this file; enable JavaScript to see them (the tables hold the same numbers).</p></noscript>
<script type="application/json" id="chart-data">${scriptJson(p.charts)}</script>
<script>${DRAW}</script>
</body></html>
`;
}

/** An HTML table from header and rows of cell text (escaped here). */
export function htmlTable(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`).join("\n");
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}
