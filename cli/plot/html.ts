/** A self-contained HTML page: every chart, rendered in the browser by vega-embed, with vega,
 *  vega-lite and vega-embed inlined (no network). The page sets `data-rendered` on <body> to the
 *  number of charts drawn when all are done, or `data-error` if one failed. */
import { browserBundles, type BrowserBundle } from "./assets.ts";
import { TANDEM_VERSION } from "../../src/version.ts";
import type { Chart } from "./style.ts";

export interface HtmlPageOptions {
  title: string;
  charts: Chart[];
  /** Lines shown under the title: which inputs, what was skipped. */
  inputs: string[];
  notes: string[];
  /** Defaults to the installed bundles. */
  bundles?: BrowserBundle[];
}

/** Text for inside <script>: `</script` and `<!--` cannot end or confuse the element. */
function scriptText(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

export function htmlPage(options: HtmlPageOptions): string {
  const bundles = options.bundles ?? browserBundles();
  const specs = JSON.stringify(options.charts.map((c) => c.spec)).replace(/</g, "\\u003c");
  const sections = options.charts
    .map((chart, i) => `<section id="${escapeHtml(chart.name)}" title="${escapeHtml(chart.title)}">\n<div class="chart" id="chart-${i}"></div>\n</section>`)
    .join("\n");
  const list = (items: string[]) => (items.length === 0 ? "" : `<ul>\n${items.map((i) => `<li>${escapeHtml(i)}</li>`).join("\n")}\n</ul>`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(options.title)}</title>
<style>
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; }
section { margin-top: 28px; }
.meta, .notes { font-size: 13px; color: #555; }
.chart { overflow-x: auto; }
</style>
${bundles.map((b) => `<!-- ${b.name} ${b.version} -->\n<script>${scriptText(b.code)}</script>`).join("\n")}
</head>
<body>
<h1>${escapeHtml(options.title)}</h1>
<div class="meta">tandem ${escapeHtml(TANDEM_VERSION)} · ${options.charts.length} chart${options.charts.length === 1 ? "" : "s"}${list(options.inputs)}</div>
${options.notes.length > 0 ? `<div class="notes">Notes:${list(options.notes)}</div>` : ""}
${sections}
<script type="application/json" id="tandem-specs">${specs}</script>
<script>
(function () {
  var specs = JSON.parse(document.getElementById("tandem-specs").textContent);
  window.tandemPlots = Promise.all(specs.map(function (spec, i) {
    return vegaEmbed("#chart-" + i, spec, { actions: false, renderer: "svg" });
  })).then(function () {
    document.body.setAttribute("data-rendered", String(specs.length));
  }, function (error) {
    document.body.setAttribute("data-error", String(error));
    console.error(error);
  });
})();
</script>
</body>
</html>
`;
}
