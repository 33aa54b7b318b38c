// What the browser check expects of a page, read from the book's markdown sources: the
// headings, the included listings (with the lines each one must show), the captions, and the
// glossary's terms.

import { readFileSync } from "node:fs";

export const root = new URL("../../", import.meta.url);

/** The pages a book's SUMMARY.md lists, as the markdown file names (without `.md`). */
export function pages(lang) {
  const summary = readFileSync(new URL(`book/${lang}/src/SUMMARY.md`, root), "utf8");
  return [...summary.matchAll(/\]\(([^)]+)\.md\)/g)].map((m) => m[1]);
}

function source(lang, name) {
  return readFileSync(new URL(`book/${lang}/src/${name}.md`, root), "utf8");
}

/** Heading text as the page shows it: no backticks, emphasis or link syntax. */
export function plainHeading(text) {
  return text
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[`*]/g, "")
    .replace(/[‘’]/g, "'")
    .replace(/[“”]/g, '"')
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * The source's `#`, `##` and `###` headings (outside fenced blocks), and every fenced block
 * that includes code: its include directives and the caption line just before it.
 */
export function outline(lang, name) {
  const lines = source(lang, name).split("\n");
  const headings = [];
  const listings = [];
  let fence = null;
  let block = null;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    const open = line.match(/^\s*(`{3,}|~{3,})/);
    if (fence) {
      if (open && line.trim() === fence) {
        if (block.includes.length > 0) listings.push(block);
        fence = null;
      } else {
        for (const m of line.matchAll(/\{\{#(?:rustdoc_)?include\s+([^}\s]+)\s*\}\}/g)) {
          block.includes.push(m[1]);
        }
      }
      continue;
    }
    if (open) {
      fence = open[1];
      let before = i - 1;
      while (before >= 0 && lines[before].trim() === "") before -= 1;
      block = { line: i + 1, includes: [], caption: before >= 0 ? lines[before].trim() : "" };
      continue;
    }
    const heading = line.match(/^(#{1,3})\s+(.*)$/);
    if (heading) headings.push({ level: heading[1].length, text: plainHeading(heading[2]) });
  }
  return { headings, listings };
}

/** The lines an `{{#include path[:anchor|:from:to]}}` puts on the page (blank lines dropped). */
export function includedLines(lang, directive) {
  const [path, ...selector] = directive.split(":");
  const file = readFileSync(new URL(path, new URL(`book/${lang}/src/`, root)), "utf8").split("\n");
  let lines = file;
  if (selector.length === 1 && !/^\d*$/.test(selector[0])) {
    const name = selector[0];
    const start = file.findIndex((l) => new RegExp(`ANCHOR:\\s*${name}\\b`).test(l));
    const end = file.findIndex((l) => new RegExp(`ANCHOR_END:\\s*${name}\\b`).test(l));
    if (start < 0 || end < 0) return null;
    lines = file.slice(start + 1, end);
  } else if (selector.length >= 1) {
    const from = selector[0] ? Number(selector[0]) - 1 : 0;
    const to = selector[1] ? Number(selector[1]) : selector.length === 1 ? from + 1 : file.length;
    lines = file.slice(from, to);
  }
  return lines
    .filter((l) => !/ANCHOR(_END)?:/.test(l))
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

/** The repository path an include names (`../../../solutions/x.rs:a` → `solutions/x.rs`). */
export function includedPath(directive) {
  return directive.split(":")[0].replace(/^(\.\.\/)+/, "");
}

/** The glossary's terms in the book's own language (the first column of its tables). */
export function glossaryTerms(lang) {
  const terms = new Set();
  for (const line of source(lang, "glossary").split("\n")) {
    if (!line.startsWith("|") || /^\|\s*-/.test(line)) continue;
    const cell = line.split("|")[1];
    for (const part of cell.split(/\s\/\s|[／、（）()]/)) {
      const term = part.replace(/`/g, "").trim();
      if (term && !["日本語", "English"].includes(term)) terms.add(term);
    }
  }
  return [...terms];
}
