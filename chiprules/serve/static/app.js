"use strict";
// The workbench: every panel asks the service's own API (/v1/...) and shows the answer.

const SETTINGS = JSON.parse(document.getElementById("settings").textContent);
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let TOKEN = params.get("token") || sessionStorage.getItem("chiprules-token") || "";
if (params.has("token")) {  // keep the token out of the address bar and the history
  sessionStorage.setItem("chiprules-token", TOKEN);
  history.replaceState(null, "", location.pathname);
}

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}

async function api(method, path, body) {
  const headers = {};
  if (TOKEN) headers["Authorization"] = "Bearer " + TOKEN;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  const type = res.headers.get("content-type") || "";
  const data = type.includes("application/json") ? await res.json() : await res.text();
  if (!res.ok) {
    const err = (data && data.error) || {message: String(data)};
    throw Object.assign(new Error(err.message), {detail: err});
  }
  return data;
}

function showError(el, err) {
  const d = err.detail || {};
  el.innerHTML = `<div class="error-box">${esc(d.text || err.message)}${d.field ? ` (field \`${esc(d.field)}\`)` : ""}</div>`;
}

// ---- the rules and their versions --------------------------------------------------------

let VERSIONS = [];
let EDITED = {version: null, file: null};

async function loadVersions() {
  const v = await api("GET", "/v1/versions");
  VERSIONS = v.versions;
  $("identity").textContent = `${v.versions.length} versions · rules ${v.rules.hash} · loaded ${v.rules.loaded_at}`;
  const options = v.versions.map((x) => `<option value="${esc(x.version)}">${esc(x.version)}${x.timeline ? " (" + esc(x.timeline) + ")" : ""}</option>`).join("");
  for (const id of ["version", "plot-version", "diff-old", "diff-new"]) {
    const sel = $(id), keep = sel.value;
    sel.innerHTML = options;
    if (keep) sel.value = keep;
  }
  const enforced = v.timelines.enforced.versions;
  if (!$("version").dataset.set) {
    $("version").value = v.timelines.enforced.in_force_today || enforced[enforced.length - 1];
    $("plot-version").value = $("version").value;
    $("diff-old").value = VERSIONS.some((x) => x.version === "2023-11-17") ? "2023-11-17" : enforced[Math.max(0, enforced.length - 2)];
    $("diff-new").value = VERSIONS.some((x) => x.version === "2024-03-15") ? "2024-03-15" : enforced[enforced.length - 1];
    $("version").dataset.set = "1";
  }
  $("chips").innerHTML = (v.chips || []).map((c) => `<option value="${esc(c)}">`).join("");
  $("save").hidden = !v.editable;
  refreshReady();
}

async function refreshReady() {
  try {
    const r = await api("GET", "/ready");
    const el = $("ready");
    el.className = "badge " + (r.stale ? "stale" : "ok");
    el.textContent = r.stale ? "serving the last good rules: the files on disk have errors" : "ready";
    el.title = r.reload ? r.reload.text : "";
  } catch (e) { /* the badge stays as it was */ }
}

async function openVersion(version) {
  const src = await api("GET", `/v1/versions/${encodeURIComponent(version)}/source`);
  EDITED = {version: src.version, file: null};
  $("source").value = src.text;
  render([]);
  check();
}

// ---- the editor: highlighting, diagnostics underlined --------------------------------

const KEYWORDS = new Set(("added aka allows and as bool case_by_case cite classified classify condition country csl date " +
  "default derive effective enforced entry error example except exception exceptions expect field for from group if in " +
  "include indeterminate integer license license_exception license_required list listed match missing " +
  "no_license_required none not notify number of one or otherwise party policy_of_denial possible " +
  "presumption_of_approval presumption_of_denial quota governs counts per yearly cumulative within fed " +
  "record removed require requirement review ruleset source " +
  "supersedes text timeline title treat until version when written").split(" "));
const TOKENS = /(#[^\n]*)|("(?:[^"\\\n]|\\.)*"?)|(\b\d[A-Z]\d{3}(?:\.[a-z0-9.]+)?\b)|(\b\d[\d_]*(?:\.\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)/g;

function highlight(text) {
  let out = "", last = 0, m;
  TOKENS.lastIndex = 0;
  while ((m = TOKENS.exec(text)) !== null) {
    out += esc(text.slice(last, m.index));
    const t = esc(m[0]);
    if (m[1]) out += `<span class="tok-com">${t}</span>`;
    else if (m[2]) out += `<span class="tok-str">${t}</span>`;
    else if (m[3]) out += `<span class="tok-eccn">${t}</span>`;
    else if (m[4]) out += `<span class="tok-num">${t}</span>`;
    else if (KEYWORDS.has(m[0])) out += `<span class="tok-kw">${t}</span>`;
    else out += t;
    last = m.index + m[0].length;
  }
  return out + esc(text.slice(last));
}

function offsetOf(text, line, column) {
  const lines = text.split("\n");
  let off = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) off += lines[i].length + 1;
  return off + column - 1;
}

let MARKS = [];  // the diagnostics of the edited file, as offsets into its text

function diagnosticAt(offset) {
  return MARKS.find((m) => m.a <= offset && offset < Math.max(m.b, m.a + 1));
}

function describe(d) {
  return `${d.line}:${d.column} ${d.severity}[${d.code}]: ${d.message}${d.help ? "\nhelp: " + d.help : ""}`;
}

function render(diags) {
  const text = $("source").value;
  // underline the spans of the diagnostics in this file; the text between is highlighted
  const marks = diags.filter((d) => d.line && d.file === EDITED.file).map((d) => {
    const a = offsetOf(text, d.line, d.column);
    let b = offsetOf(text, d.end_line || d.line, d.end_column || d.column + 1);
    if (b <= a) b = a + 1;
    return {a, b, d};
  }).sort((x, y) => x.a - y.a);
  MARKS = marks;
  showAtCaret();
  let html = "", pos = 0;
  for (const {a, b, d} of marks) {
    if (a < pos) continue;
    html += highlight(text.slice(pos, a));
    const title = `${d.code}: ${d.message}${d.help ? "\nhelp: " + d.help : ""}`;
    html += `<span class="diag-${d.severity}" title="${esc(title)}">${esc(text.slice(a, b)) || " "}</span>`;
    pos = b;
  }
  html += highlight(text.slice(pos)) + "\n\n\n";  // room to scroll as far as the text area does
  $("highlight").innerHTML = html;
  syncScroll();
}

function syncScroll() {
  $("highlight").scrollTop = $("source").scrollTop;
  $("highlight").scrollLeft = $("source").scrollLeft;
}

let checkTimer = null, checkSeq = 0;
async function check() {
  const seq = ++checkSeq;
  const body = {text: $("source").value};
  if (EDITED.version) body.version = EDITED.version;
  let res;
  try {
    res = await api("POST", "/v1/check", body);
  } catch (err) {
    showError($("diagnostics"), err);
    return;
  }
  if (seq !== checkSeq) return;  // a later edit is being checked
  EDITED.file = res.file;
  render(res.diagnostics);
  $("check-summary").textContent = res.errors || res.warnings ? res.summary : "no problems";
  $("check-summary").className = res.errors ? "sev-error" : "muted";
  $("diagnostics").innerHTML = res.diagnostics.length ? res.diagnostics.map((d) => {
    const where = d.file ? `${d.file}:${d.line}:${d.column}` : (d.location || "");
    return `<li data-line="${d.line || ""}" data-col="${d.column || ""}" data-file="${esc(d.file || "")}">` +
      `<span class="where">${esc(where)}</span> <span class="sev-${d.severity}">${d.severity}[${esc(d.code)}]</span> ` +
      `${esc(d.message)}${d.help ? `<span class="help">help: ${esc(d.help)}</span>` : ""}</li>`;
  }).join("") : `<li class="muted">no problems</li>`;
  $("examples").innerHTML = res.examples ? res.examples.map((e) =>
    `<li><span class="${e.ok ? "pass" : "fail"}">${e.ok ? "PASS" : "FAIL"}</span> ${esc(e.name)}` +
    (e.ok ? "" : `<span class="help">expected: ${esc(e.expected)}<br>actual: ${esc(e.actual)}</span>`) + `</li>`).join("")
    : `<li class="muted">${res.errors ? "fix the errors to run the examples" : "no examples in this text"}</li>`;
}

$("source").addEventListener("input", () => {
  render([]);
  clearTimeout(checkTimer);
  checkTimer = setTimeout(check, 350);
});
$("source").addEventListener("scroll", syncScroll);

// the message of the diagnostic under the caret, and under the mouse
function showAtCaret() {
  const m = diagnosticAt($("source").selectionStart);
  $("at-caret").textContent = m ? describe(m.d).replace("\n", " · ") : "";
}
for (const ev of ["keyup", "click", "select"]) $("source").addEventListener(ev, showAtCaret);

let CELL = null;
function cellSize() {
  if (!CELL) {
    const probe = document.createElement("span");
    probe.textContent = "M".repeat(100);
    $("highlight").appendChild(probe);
    const r = probe.getBoundingClientRect();
    CELL = {w: r.width / 100, h: r.height};
    probe.remove();
  }
  return CELL;
}
$("source").addEventListener("mousemove", (e) => {
  const ta = $("source"), box = ta.getBoundingClientRect(), cell = cellSize();
  const style = getComputedStyle(ta);
  const x = e.clientX - box.left - parseFloat(style.paddingLeft) + ta.scrollLeft;
  const y = e.clientY - box.top - parseFloat(style.paddingTop) + ta.scrollTop;
  const line = Math.floor(y / parseFloat(style.lineHeight)) + 1, column = Math.floor(x / cell.w) + 1;
  const lines = ta.value.split("\n");
  const tip = $("tip");
  const m = line >= 1 && line <= lines.length && column <= lines[line - 1].length
    ? diagnosticAt(offsetOf(ta.value, line, column)) : null;
  if (!m) { tip.hidden = true; return; }
  tip.textContent = describe(m.d);
  tip.hidden = false;
  const above = e.clientY - box.top - tip.offsetHeight - 12;  // above the pointer, or below near the top
  tip.style.left = `${Math.max(4, e.clientX - box.left - 40)}px`;
  tip.style.top = `${above >= 0 ? above : e.clientY - box.top + 18}px`;
});
$("source").addEventListener("mouseleave", () => { $("tip").hidden = true; });
$("source").addEventListener("keydown", (e) => {
  if (e.key === "Tab") {
    e.preventDefault();
    const t = e.target, s = t.selectionStart;
    t.value = t.value.slice(0, s) + "  " + t.value.slice(t.selectionEnd);
    t.selectionStart = t.selectionEnd = s + 2;
    t.dispatchEvent(new Event("input"));
  }
});
$("diagnostics").addEventListener("click", (e) => {
  const li = e.target.closest("li[data-line]");
  if (!li || !li.dataset.line || li.dataset.file !== EDITED.file) return;
  const off = offsetOf($("source").value, +li.dataset.line, +li.dataset.col);
  $("source").focus();
  $("source").setSelectionRange(off, off);
});
$("version").addEventListener("change", () => openVersion($("version").value));
$("format").addEventListener("click", async () => {
  try {
    const res = await api("POST", "/v1/format", {text: $("source").value, version: EDITED.version});
    $("source").value = res.text;
    render([]);
    check();
  } catch (err) { showError($("diagnostics"), err); }
});
$("save").addEventListener("click", async () => {
  try {
    const res = await api("PUT", `/v1/versions/${encodeURIComponent(EDITED.version)}/source`, {text: $("source").value});
    $("check-summary").textContent = res.reload ? "saved; the rules on disk do not check, the last good rules go on serving"
      : `saved ${res.saved}; serving rules ${res.rules.hash}`;
    loadVersions();
  } catch (err) { showError($("diagnostics"), err); }
});

// ---- decisions -----------------------------------------------------------------------------

function parseCsv(text) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell); cell = "";
      if (row.some((x) => x !== "")) rows.push(row);
      row = [];
    } else cell += c;
  }
  row.push(cell);
  if (row.some((x) => x !== "")) rows.push(row);
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h.trim(), r[i] ?? ""]).filter(([, v]) => v !== "")));
}

function recordsToDecide() {
  const pasted = $("paste").value.trim();
  if ($("paste-box").open && pasted) {
    if (pasted.startsWith("[") || pasted.startsWith("{")) {
      const doc = JSON.parse(pasted);
      return Array.isArray(doc) ? doc : (Array.isArray(doc.records) ? doc.records : [doc]);
    }
    return parseCsv(pasted);
  }
  const rec = {};
  for (const el of $("shipment").elements) {
    if (el.name && el.value.trim() !== "") rec[el.name] = el.value.trim();
  }
  return [rec];
}

function reasonTree(d) {
  const items = (d.reasons || []).map((r) => {
    const conds = (r.conditions || []).map((c) => `<li class="cond">because ${esc(c)}</li>`).join("");
    const detail = r.detail ? `<li>${esc(r.detail)}</li>` : "";
    const kind = {classify: "classified", require: "licence required by", exception: "licence exception",
                  list: "party list"}[r.kind] || r.kind;
    return `<li><strong>${esc(kind)} ${esc(r.rule)}</strong>${r.title ? ": " + esc(r.title) : ""}` +
      `<div class="cite">cite: ${esc(r.cite || "")}</div><ul class="tree">${conds}${detail}</ul></li>`;
  }).join("");
  return items ? `<ul class="tree">${items}</ul>` : "";
}

function showDecision(d) {
  const facts = [];
  if (d.classification && d.classification.length) facts.push(`classified <strong>${esc(d.classification.join(", "))}</strong>`);
  if (d.review_policy) facts.push(`review ${esc(d.review_policy.replaceAll("_", " "))}`);
  if (d.license_exceptions && d.license_exceptions.length) facts.push(`exceptions ${esc(d.license_exceptions.map((g) => g.name).join(", "))}`);
  if (d.missing && d.missing.length) facts.push(`missing ${esc(d.missing.join(", "))}`);
  if (d.ruleset) facts.push(`<span class="muted">version ${esc(d.ruleset.version)}, ${esc(d.ruleset.timeline)} timeline, hash ${esc(d.ruleset.hash)}</span>`);
  const errors = (d.errors || []).map((e) => `<div class="error-box">${esc(e)}</div>`).join("");
  const matches = (d.possible_matches || []).map((m) => `<div>possible match: ${esc(m.field)} ~ ${esc(m.entry)} (${esc(m.score)})</div>`).join("");
  return `<div class="decision" data-outcome="${esc(d.outcome)}"><div><span class="muted">${esc(d.id)}</span> ` +
    `<span class="outcome ${esc(d.outcome)}">${esc(d.outcome.replaceAll("_", " "))}</span> ${facts.join(" · ")}</div>` +
    errors + matches + reasonTree(d) +
    (d.explanation ? `<details><summary>explanation</summary><pre class="explain">${esc(d.explanation)}</pre></details>` : "") +
    `</div>`;
}

$("decide").addEventListener("click", async () => {
  const out = $("decisions");
  out.innerHTML = `<span class="muted">deciding…</span>`;
  try {
    const records = recordsToDecide();
    if ($("use-draft").checked) {  // the edited text, not saved: decided only if it checks
      const body = {text: $("source").value, records, explain: true, examples: false};
      if (EDITED.version) body.version = EDITED.version;
      const res = await api("POST", "/v1/check", body);
      out.innerHTML = res.decisions
        ? `<div class="muted">decided by the edited text of ${esc(res.version)}</div>` + res.decisions.map(showDecision).join("")
        : `<div class="error-box">the edited text has errors; fix them to decide by it\n\n${esc(res.text)}</div>`;
      return;
    }
    const res = await api("POST", "/v1/decisions", {records, explain: true, timeline: $("timeline").value});
    out.innerHTML = res.decisions.map(showDecision).join("");
  } catch (err) { showError(out, err); }
});

// ---- screening -------------------------------------------------------------------------------

$("screen").addEventListener("click", async () => {
  const out = $("screenings");
  try {
    const body = {name: $("screen-name").value};
    if ($("screen-country").value.trim()) body.country = $("screen-country").value.trim();
    const res = await api("POST", "/v1/screen", body);
    out.innerHTML = res.results.map((m) => `<li><strong>${esc(m.status)}</strong> ${m.score != null ? esc(m.score) : ""} ` +
      `[${esc(m.list)}] ${esc(m.entry || "")}<span class="help">${esc(m.explanation)}</span></li>`).join("")
      + `<li class="muted">screened on ${esc(res.on)} against version ${esc(res.version)}</li>`;
  } catch (err) { showError(out, err); }
});

// ---- the picture -------------------------------------------------------------------------------

$("plot").addEventListener("click", async () => {
  const out = $("plot-out");
  out.innerHTML = `<span class="muted">drawing…</span>`;
  const q = new URLSearchParams({version: $("plot-version").value});
  if ($("plot-destination").value.trim()) q.set("destination", $("plot-destination").value.trim());
  try {
    const svg = await api("GET", "/v1/plot?" + q.toString());
    const url = URL.createObjectURL(new Blob([svg], {type: "image/svg+xml"}));
    out.innerHTML = `<img alt="regions of the TPP x performance density plane" src="${url}" style="width:100%">`;
  } catch (err) { showError(out, err); }
});

// ---- the diff -------------------------------------------------------------------------------

$("diff").addEventListener("click", async () => {
  const out = $("diff-out");
  out.innerHTML = `<span class="muted">comparing…</span>`;
  try {
    const r = await api("POST", "/v1/diff", {old: $("diff-old").value, new: $("diff-new").value});
    const changes = r.changes.map((c) => `<li><strong>${esc(c.kind)}</strong> ${esc(c.subject)}` +
      `<ul class="tree">${c.details.map((x) => `<li>${esc(x)}</li>`).join("")}</ul></li>`).join("");
    const regions = r.regions.map((g) => `<div class="region"><div><strong>${esc(g.old)}</strong> → <strong>${esc(g.new)}</strong></div>` +
      `<div>where ${esc(g.where.join("; "))}</div><div class="witness">witness${g.verified ? " (verified under both versions)" : ""}: ` +
      `${esc(Object.entries(g.witness).map(([k, v]) => `${k}: ${v}`).join(", "))}</div></div>`).join("");
    out.innerHTML = `<h3>${r.equivalent ? "The versions decide every record alike" : `Structural changes: ${r.changes.length}`}</h3>` +
      `<ul class="list">${changes}</ul><h3>Outcome changes: ${r.regions.length} regions</h3>${regions}`;
  } catch (err) { showError(out, err); }
});

// ---- start -------------------------------------------------------------------------------

(async () => {
  try {
    await loadVersions();
    await openVersion($("version").value);
  } catch (err) {
    showError($("diagnostics"), err);
    if (err.detail && err.detail.status === 401) {
      $("identity").textContent = "this service needs a token: open the page as /?token=…";
    }
  }
  setInterval(refreshReady, 5000);
})();
