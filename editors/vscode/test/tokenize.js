// Tokenises .rules files with the TextMate grammar, the way VS Code does (vscode-textmate
// with the Oniguruma regular expressions VS Code uses), and reports every span that no rule
// of the grammar matched: text outside any scope but the file's, or scoped invalid.
//
//   node test/tokenize.js PATH...          JSON: {files, lines, tokens, unmatched: [...]}
//   node test/tokenize.js --tokens < FILE  JSON: one [text, scope] per token
//   node test/tokenize.js --lines < FILE   JSON: per line, its [text, scope] tokens (spaces too)
"use strict";
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const GRAMMAR = path.join(__dirname, "..", "syntaxes", "rules.tmLanguage.json");

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) =>
      scopeName === "source.chiprules"
        ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, "utf8"), GRAMMAR)
        : null,
  });
  return registry.loadGrammar("source.chiprules");
}

function* tokens(grammar, text) {
  let stack = vsctm.INITIAL;
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const result = grammar.tokenizeLine(line, stack);
    for (const t of result.tokens) {
      yield { line: i + 1, column: t.startIndex + 1, text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes };
    }
    stack = result.ruleStack;
  }
}

function files(target) {
  const st = fs.statSync(target);
  if (!st.isDirectory()) return [target];
  return fs.readdirSync(target).sort().flatMap((n) => {
    const p = path.join(target, n);
    return fs.statSync(p).isDirectory() ? files(p) : p.endsWith(".rules") ? [p] : [];
  });
}

async function main() {
  const grammar = await loadGrammar();
  const args = process.argv.slice(2);
  if (args[0] === "--lines") {
    const lines = [];
    for (const t of tokens(grammar, fs.readFileSync(0, "utf8"))) {
      while (lines.length < t.line) lines.push([]);
      lines[t.line - 1].push([t.text, t.scopes[t.scopes.length - 1]]);
    }
    process.stdout.write(JSON.stringify(lines) + "\n");
    return;
  }
  if (args[0] === "--tokens") {
    const text = fs.readFileSync(0, "utf8");
    const out = [];
    for (const t of tokens(grammar, text)) {
      if (t.text.trim()) out.push([t.text, t.scopes[t.scopes.length - 1]]);
    }
    process.stdout.write(JSON.stringify(out) + "\n");
    return;
  }
  const report = { files: 0, lines: 0, tokens: 0, unmatched: [] };
  for (const f of args.flatMap(files)) {
    report.files += 1;
    const text = fs.readFileSync(f, "utf8");
    for (const t of tokens(grammar, text)) {
      report.tokens += 1;
      const bare = t.scopes.length === 1 && t.text.trim() !== "";
      const invalid = t.scopes.some((s) => s.startsWith("invalid"));
      if (bare || invalid) report.unmatched.push({ file: f, line: t.line, column: t.column, text: t.text, scopes: t.scopes });
    }
    report.lines += text.split(/\r\n|\r|\n/).length;
  }
  process.stdout.write(JSON.stringify(report, null, 1) + "\n");
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + "\n");
  process.exit(2);
});
