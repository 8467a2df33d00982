// The TypeScript compiler's parser as an oracle for sloc's TypeScript and JavaScript rules.
//
// Usage: node typescript_comments.js TYPESCRIPT_PACKAGE_DIR < paths
// For each path read from stdin (one a line) prints one line: the path, a tab, then the
// comments the parser finds, as UTF-8 byte ranges `start-end` joined by commas, or `!` when the
// parser reports a syntax error (the file is left out). A UTF-8 BOM is dropped first, as sloc
// drops it, and offsets count from after it.
//
// Comments are the trivia before each token of the parsed tree: the tree knows which `/` starts
// a regular expression and where a template literal's `${…}` ends, which a scanner alone
// cannot tell.
"use strict";

const fs = require("fs");
const path = require("path");

const ts = require(path.resolve(process.argv[2]));

function scriptKind(file) {
  if (file.endsWith(".tsx")) return ts.ScriptKind.TSX;
  if (file.endsWith(".ts") || file.endsWith(".mts") || file.endsWith(".cts")) return ts.ScriptKind.TS;
  return ts.ScriptKind.JS;
}

function isJSDoc(node) {
  return node.kind >= ts.SyntaxKind.FirstJSDocNode && node.kind <= ts.SyntaxKind.LastJSDocNode;
}

// UTF-8 offset of every UTF-16 offset of `text`.
function byteOffsets(text) {
  const out = new Uint32Array(text.length + 1);
  let b = 0;
  for (let i = 0; i < text.length; i++) {
    out[i] = b;
    const c = text.charCodeAt(i);
    if (c < 0x80) b += 1;
    else if (c < 0x800) b += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out[i + 1] = b;
        b += 4;
        i++;
        continue;
      }
      b += 3;
    } else b += 3;
  }
  out[text.length] = b;
  return out;
}

function comments(file) {
  let text = fs.readFileSync(file, "utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, scriptKind(file));
  if (sf.parseDiagnostics.length > 0) return null;
  const ranges = [];
  const seen = new Set();
  const visit = (node) => {
    if (isJSDoc(node)) return;
    const children = node.getChildren(sf);
    if (children.length === 0) {
      if (node.kind === ts.SyntaxKind.JsxText) return;
      for (const c of ts.getLeadingCommentRanges(text, node.pos) || []) {
        if (!seen.has(c.pos)) {
          seen.add(c.pos);
          ranges.push([c.pos, c.end]);
        }
      }
      return;
    }
    for (const child of children) visit(child);
  };
  visit(sf);
  ranges.sort((a, b) => a[0] - b[0]);
  const bytes = byteOffsets(text);
  return ranges.map(([s, e]) => `${bytes[s]}-${bytes[e]}`).join(",");
}

const out = [];
for (const file of fs.readFileSync(0, "utf8").split("\n")) {
  if (file === "") continue;
  const found = comments(file);
  out.push(`${file}\t${found === null ? "!" : found}\n`);
}
process.stdout.write(out.join(""));
