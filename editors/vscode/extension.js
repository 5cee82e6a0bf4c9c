// The chiprules extension: highlighting comes from syntaxes/rules.tmLanguage.json; everything
// else (diagnostics, hover, definitions, completion, formatting, rename, quick fixes) from
// the language server that `chiprules lsp` starts, spoken to over stdio.
"use strict";
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const words = vscode.workspace.getConfiguration("chiprules").get("server.command", ["chiprules", "lsp"]);
  const [command, ...args] = words;
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient(
    "chiprules",
    "chiprules",
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: "file", language: "chiprules" }],
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.{rules,csv,toml}") },
    },
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
