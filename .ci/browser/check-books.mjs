// Opens both built books in headless Chromium and fails on what a reader would see go wrong, on
// a desktop (1280x800), a phone (390x844), in the light and a dark theme:
// - a page error, a failed request, a link that does not resolve, no link to the twin page;
// - a mermaid diagram that stayed text or rendered as mermaid's error; a diagram whose smallest
//   label is under 11 px on a phone; mermaid.min.js loaded on a page without a diagram;
// - markdown that leaked into a code block, a source heading missing from the page, an
//   included listing whose lines landed outside one code block, a listing without its caption;
// - a code block that scrolls sideways without a cue, program output that does not wrap;
// - an axe-core violation (every page, light and navy; search results open; colour contrast in
//   all five themes), except the known ones of mdBook's own template listed below;
// - the site's addresses (/, /en, /ja), the 404 pages, the Japanese interface, the language
//   switch keeping the section, `s` and `/`, the print page;
// - search: each book's term list and every glossary term.
//
// Usage: node check-books.mjs http://127.0.0.1:PORT/   (the books served by `course book`)
// Chromium is Debian's (/usr/bin/chromium, or $CHROMIUM); playwright-core only drives it.

import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import {
  glossaryTerms,
  includedLines,
  includedPath,
  outline,
  pages,
  plainHeading,
} from "./sources.mjs";

const require = createRequire(import.meta.url);
const axePath = require.resolve("axe-core/axe.min.js");

const base = process.argv[2];
if (!base) {
  console.error("usage: node check-books.mjs BASE_URL");
  process.exit(2);
}
const languages = ["en", "ja"];
const twinOf = { en: "ja", ja: "en" };
const themes = ["light", "rust", "coal", "navy", "ayu"];
const desktop = { width: 1280, height: 800 };
const phone = { width: 390, height: 844 };
/** The smallest diagram label a phone may show, in CSS pixels. */
const MIN_LABEL_PX = 11;
/** Terms each book's search must find on a page that has them, besides every glossary term. */
const searches = {
  en: ["socket", "retransmission", "multicast", "Nagle", "select", "backlog", "datagram",
    "timeout", "non-blocking", "framing", "port number", "replay", "multiplexing"],
  ja: ["ソケット", "再送", "バインド", "ネーグル", "受信側", "マルチキャスト", "タイムアウト",
    "ノンブロッキング", "輻輳", "ポート番号", "リプレイ攻撃", "多重化"],
};
// axe findings the books cannot fix without forking mdBook's template (index.hbs, tied to
// mdBook 0.5.4): matched by rule and element.
const knownAxe = [
  {
    rules: ["aria-allowed-attr", "aria-prohibited-attr"],
    target: "#mdbook-sidebar-toggle",
    why: "mdBook 0.5.4's sidebar toggle is a <label> with aria-expanded and aria-label",
  },
];

const problems = [];
const problem = (where, what) => problems.push(`${where}: ${what}`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const origin = new URL(base).origin;
async function newContext(options = {}) {
  const context = await browser.newContext({ viewport: desktop, ...options });
  // Nothing leaves this machine: any request to another host is a problem and is not sent.
  await context.route(
    (url) => url.origin !== origin,
    (route) => route.abort(),
  );
  if (options.theme) {
    await context.addInitScript((theme) => localStorage.setItem("mdbook-theme", theme), options.theme);
  }
  return context;
}

const linkCache = new Map();
async function resolves(href) {
  const url = new URL(href);
  const hash = decodeURIComponent(url.hash.slice(1));
  url.hash = "";
  if (!linkCache.has(url.href)) {
    const response = await fetch(url.href);
    linkCache.set(url.href, { ok: response.ok, text: response.ok ? await response.text() : "" });
  }
  const { ok, text } = linkCache.get(url.href);
  if (!ok) return "does not exist";
  if (hash && !text.includes(`id="${hash}"`)) return `has no #${hash}`;
  return null;
}

/** Opens a page and collects what went wrong while loading it. */
async function open(page, url) {
  const errors = [];
  const requests = [];
  page.removeAllListeners();
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && errors.push(`console error: ${m.text()}`));
  page.on("request", (r) => requests.push(r.url()));
  page.on("requestfailed", (r) => {
    // A request the browser cancels itself (leaving the page) is not a failure of the book.
    if (r.failure()?.errorText !== "net::ERR_ABORTED") errors.push(`request failed: ${r.url()}`);
  });
  page.on("response", (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()}: ${r.url()}`));
  const response = await page.goto(url, { waitUntil: "load" });
  return { errors, requests, response };
}

/** Waits for mermaid; reports diagrams that stayed text or became mermaid's error picture. */
async function checkDiagrams(page, errors) {
  const diagrams = await page.locator("pre.mermaid").count();
  if (diagrams === 0) return 0;
  try {
    await page.waitForFunction(
      () => [...document.querySelectorAll("pre.mermaid")].every((d) => d.querySelector("svg")),
      null,
      { timeout: 15000 },
    );
  } catch {
    const rendered = await page.locator("pre.mermaid svg").count();
    errors.push(`${diagrams - rendered} of ${diagrams} mermaid diagrams did not become an SVG`);
  }
  const broken = await page.$$eval("pre.mermaid", (all) =>
    all
      .map((d, i) => ({ i, svg: d.querySelector("svg"), text: d.textContent }))
      .filter(({ svg, text }) =>
        (svg && svg.getAttribute("aria-roledescription") === "error") || /Syntax error in text/.test(text),
      )
      .map(({ i, svg }) => {
        const message = [...(svg?.querySelectorAll("text") ?? [])].map((t) => t.textContent).join(" ");
        return `${i + 1} of ${all.length} ("${message.replace(/\s+/g, " ").trim().slice(0, 60)}")`;
      }),
  );
  for (const d of broken) errors.push(`mermaid diagram ${d} rendered as mermaid's error`);
  return diagrams;
}

/** Markdown that should have been rendered, found inside a code block. */
async function checkCodeBlocks(page, errors) {
  const leaks = await page.$$eval("main pre:not(.mermaid) > code", (blocks) =>
    blocks.flatMap((code, i) =>
      code.textContent
        .split("\n")
        // `# ` starts a comment in Python, shell and TOML blocks: there it is no heading.
        .filter((l) =>
          /^\s*(\*\*\S|`{3,}|~{3,}|\d+\.\s+\*\*)/.test(l) ||
          (/^\s*#{1,6}\s+\S/.test(l) && !/language-(python|bash|sh|shell|console|toml)/.test(code.className)))
        .map((l) => `code block ${i + 1} shows markdown: "${l.trim().slice(0, 70)}"`),
    ),
  );
  errors.push(...leaks);
}

/** Every `#`..`###` heading of the source is a heading of the page. */
async function checkHeadings(page, lang, name, errors) {
  const shown = await page.$$eval("main :is(h1,h2,h3)", (hs) => hs.map((h) => h.textContent));
  const onPage = new Set(shown.map(plainHeading));
  for (const { text } of outline(lang, name).headings) {
    if (!onPage.has(text)) errors.push(`the heading "${text}" is not a heading of the page`);
  }
}

/** Each included listing: all its lines in one code block, and a caption with number and path. */
async function checkListings(page, lang, name, errors) {
  const blocks = await page.$$eval("main pre:not(.mermaid) > code", (codes) =>
    codes.map((c) => c.textContent.split("\n").map((l) => l.trim()).filter((l) => l !== "")),
  );
  const captions = await page.$$eval("main .listing-caption", (cs) =>
    cs.map((c) => ({
      id: c.id,
      text: c.textContent.trim(),
      next: c.nextElementSibling?.tagName ?? "",
    })),
  );
  const chapter = name.match(/^ch(\d+)/)?.[1];
  const number = chapter ? String(Number(chapter)) : name.startsWith("appendix") ? "A" : null;
  const word = lang === "ja" ? "リスト" : "Listing";
  const { listings } = outline(lang, name);
  listings.forEach((listing, index) => {
    for (const directive of listing.includes) {
      const lines = includedLines(lang, directive);
      if (!lines) {
        errors.push(`line ${listing.line}: the include ${directive} names no anchor`);
        continue;
      }
      const whole = lines.join("\n");
      if (!blocks.some((b) => b.join("\n").includes(whole))) {
        errors.push(
          `line ${listing.line}: the lines of {{#include ${directive}}} are not together in one code block (some landed outside it)`,
        );
      }
    }
    const label = `${word} ${number}-${index + 1}`;
    const paths = [...new Set(listing.includes.map(includedPath))].join(", ");
    const caption = captions[index];
    if (!caption || caption.text !== `${label}: ${paths}` || caption.id !== `listing-${number}-${index + 1}`) {
      errors.push(`line ${listing.line}: the listing has no caption "${label}: ${paths}" (found "${caption?.text ?? ""}")`);
    } else if (caption.next !== "PRE") {
      errors.push(`the caption "${label}" is not followed by its listing`);
    }
  });
  if (captions.length !== listings.length) {
    errors.push(`${captions.length} listing captions for ${listings.length} included listings`);
  }
}

/** Wide boxes show that they scroll; program output wraps at the column. */
async function checkScrolling(page, errors) {
  const found = await page.$$eval("main pre", (pres) =>
    pres.map((pre, i) => {
      const scroller = pre.classList.contains("mermaid") ? pre : pre.querySelector("code") || pre;
      return {
        i,
        output: !!pre.querySelector("code.language-console, code.language-text"),
        scrolls: scroller.scrollWidth > scroller.clientWidth + 1,
        cue: pre.classList.contains("course-scrolls"),
        first: pre.textContent.trim().split("\n")[0].slice(0, 50),
      };
    }),
  );
  for (const box of found) {
    if (box.scrolls && !box.cue) errors.push(`box ${box.i + 1} ("${box.first}") scrolls sideways without a cue`);
    if (box.output && box.scrolls) errors.push(`program output ${box.i + 1} ("${box.first}") does not wrap at the column`);
  }
}

/** The same headings, in the same order and levels, as the other language's page. */
async function checkTwinHeadings(lang, name, errors) {
  const levels = (l) => outline(l, name).headings.map((h) => h.level).join(",");
  if (levels(lang) !== levels(twinOf[lang])) {
    errors.push(`its headings differ in number or level from ${twinOf[lang]}/${name}.md: the language switch cannot keep the section`);
  }
}

async function runAxe(page, where, options = {}) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(
    (opts) =>
      // eslint-disable-next-line no-undef
      axe.run(document, { resultTypes: ["violations"], ...opts }),
    options,
  );
  for (const v of result.violations) {
    for (const node of v.nodes) {
      const target = node.target.join(" ");
      if (knownAxe.some((k) => k.rules.includes(v.id) && target === k.target)) continue;
      problem(where, `axe ${v.id} (${v.impact}) at ${target}: ${node.failureSummary?.split("\n")[1]?.trim() ?? v.help}`);
    }
  }
}

async function checkPage(page, lang, name, theme) {
  const file = `${name}.html`;
  const where = `${lang}/${file}${theme === "light" ? "" : ` (${theme})`}`;
  const { errors, requests } = await open(page, new URL(`${lang}/${file}`, base).href);
  const diagrams = await checkDiagrams(page, errors);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
  if (theme === "light") {
    await checkCodeBlocks(page, errors);
    if (name !== "print") {
      await checkHeadings(page, lang, name, errors);
      await checkListings(page, lang, name, errors);
      await checkTwinHeadings(lang, name, errors);
    }
    await checkScrolling(page, errors);
    const mermaidLoaded = requests.some((u) => u.endsWith("/mermaid.min.js"));
    if (diagrams === 0 && mermaidLoaded) errors.push("mermaid.min.js loaded on a page without a diagram");
    const hrefs = await page.$$eval("main a[href], nav a[href]", (links) =>
      links.map((a) => a.href).filter((h) => h.startsWith(location.origin)),
    );
    for (const href of new Set(hrefs)) {
      const why = await resolves(href);
      if (why) errors.push(`link ${href} ${why}`);
    }
    const twin = twinOf[lang];
    if (name !== "print" && !hrefs.some((h) => h.endsWith(`/${twin}/${file}`))) {
      errors.push(`no link to the same page in the other language (${twin}/${file})`);
    }
  }
  for (const e of errors) problem(where, e);
  await runAxe(page, where);
  return diagrams;
}

/** On a phone (and on a desktop), every diagram's smallest label is readable without zooming. */
async function checkDiagramLabels(page, lang, name) {
  const where = `${lang}/${name}.html (${page.viewportSize().width} px)`;
  await open(page, new URL(`${lang}/${name}.html`, base).href);
  await page.waitForFunction(
    () => [...document.querySelectorAll("pre.mermaid")].every((d) => d.querySelector("svg")),
    null,
    { timeout: 15000 },
  );
  const sizes = await page.$$eval("pre.mermaid svg", (svgs) =>
    svgs.map((svg) => {
      let smallest = Infinity;
      for (const t of svg.querySelectorAll("text")) {
        if (!t.textContent.trim()) continue;
        const scale = t.getScreenCTM()?.a ?? 1;
        smallest = Math.min(smallest, parseFloat(getComputedStyle(t).fontSize) * scale);
      }
      return smallest;
    }),
  );
  sizes.forEach((px, i) => {
    if (px < MIN_LABEL_PX) problem(where, `diagram ${i + 1}: smallest label ${px.toFixed(1)} px (at least ${MIN_LABEL_PX})`);
  });
  return sizes;
}

/** Search results for a term, as the reader sees them in the box. */
async function searchFor(page, term) {
  const input = page.locator("#course-search input");
  await input.fill("");
  await input.fill(term);
  try {
    await page.waitForFunction(
      (t) => {
        const box = document.querySelector("#course-search");
        const message = box.querySelector(".pagefind-ui__message")?.textContent ?? "";
        return box.querySelector("input").value === t && message !== "" && !/\.\.\.|…/.test(message) &&
          (box.querySelectorAll(".pagefind-ui__result").length > 0 || /0|ありません|No results/.test(message)) &&
          [...box.querySelectorAll(".pagefind-ui__result")].every((r) => r.querySelector("a.pagefind-ui__result-link[href]"));
      },
      term,
      { timeout: 10000 },
    );
  } catch {
    return { results: [] };
  }
  await page.waitForTimeout(150);
  return page.$$eval("#course-search .pagefind-ui__result", (results) =>
    ({
      results: results.map((r) => ({
        url: r.querySelector("a.pagefind-ui__result-link")?.href ?? "",
        marks: [...r.querySelectorAll("mark")].map((m) => m.textContent.trim()),
      })),
    }),
  );
}

const pageText = new Map();
async function textOf(url) {
  const clean = url.split("#")[0];
  if (!pageText.has(clean)) {
    const html = await (await fetch(clean)).text();
    const main = html.match(/<main>([\s\S]*)<\/main>/)?.[1] ?? "";
    const text = main.replace(/<[^>]+>/g, "").replace(/&#?[a-z0-9]+;/g, (e) => (e === "&amp;" ? "&" : e === "&#39;" || e === "&#x27;" ? "'" : " "));
    pageText.set(clean, text.replace(/[‘’]/g, "'").replace(/\s+/g, " ").toLowerCase());
  }
  return pageText.get(clean);
}

async function checkSearch(page, lang) {
  const where = `${lang} search`;
  await open(page, new URL(`${lang}/introduction.html`, base).href);
  try {
    await page.locator("#course-search input").waitFor({ timeout: 10000 });
  } catch {
    problem(where, "no search box on the page (is the Pagefind index built?)");
    return;
  }
  const listed = new Set(searches[lang]);
  const terms = [...new Set([...searches[lang], ...glossaryTerms(lang)])];
  let fine = 0;
  for (const term of terms) {
    // A term of several words is searched as a phrase (in quotes), as a reader would.
    const wordsOf = await page.evaluate(
      (t) => (window.courseSegment ? window.courseSegment(t) : t).toLowerCase().split(/\s+/).filter(Boolean),
      term,
    );
    // (Not a term with ・: the dot stands between words as a word of its own, so a phrase
    // does not match; such a term is searched word by word.)
    const query = wordsOf.length > 1 && !/・/.test(term) ? `"${term}"` : term;
    const { results } = await searchFor(page, query);
    const label = listed.has(term) ? `"${query}"` : `glossary term "${query}"`;
    if (results.length === 0) {
      problem(where, `nothing found for ${label}`);
      continue;
    }
    const top = results[0];
    // English words are stemmed: "well-known ports" finds "well-known port".
    const forms = [term, lang === "en" ? term.replace(/s\b/g, "") : term].map((t) => t.toLowerCase().replace(/\s+/g, " "));
    const pageHas = await textOf(top.url);
    if (!forms.some((f) => pageHas.includes(f))) {
      problem(where, `${label}: the top result ${top.url} does not contain it`);
      continue;
    }
    // A highlight is the term when it is the term or one of its words (a term of several words
    // is highlighted word by word), without the punctuation around it; in English also with
    // the endings -s, -es, 's.
    // Latin words are also found inside identifiers (`set_multicast_all_v4`, `PortRange`,
    // `socket2`: letters and digits are split too).
    const bare = (m) => m.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
    const latinParts = (m) =>
      m.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/(\p{L})(\p{N})/gu, "$1 $2").toLowerCase().split(/[^\p{L}\p{N}']+/u).filter(Boolean);
    const isTerm = (m) => {
      if (wordsOf.includes(bare(m))) return true;
      const forms = (w) => [w, `${w}s`, `${w}es`, `${w}'s`];
      return latinParts(m.replace(/’/g, "'")).some((part) => wordsOf.some((w) => /^[a-z0-9]/.test(w) && forms(w).includes(part)));
    };
    const exact = top.marks.filter(isTerm).length;
    const japaneseTerm = /[\u3040-\u30ff\u4e00-\u9fff]/.test(term);
    const highlightsCount = listed.has(term) || japaneseTerm;
    if (highlightsCount && top.marks.length > 0 && exact / top.marks.length < 0.8) {
      problem(where, `${label}: ${exact} of ${top.marks.length} highlights on the top result are the term (${top.marks.slice(0, 6).join(", ")})`);
      continue;
    }
    // Quoted: the listed terms, and the Japanese glossary terms (except those with ・, which
    // stands between words as a word of its own).
    if (query === term && (listed.has(term) || (japaneseTerm && !/・/.test(term)))) {
      const quoted = await searchFor(page, `"${term}"`);
      if (quoted.results.length === 0) {
        problem(where, `"\\"${term}\\"" (quoted) finds nothing`);
        continue;
      }
    }
    fine += 1;
  }
  console.log(`search ${lang}: ${fine} of ${terms.length} terms found on the right page`);
}

/** Search results open in every theme: text, input and marks are readable (axe colour contrast). */
async function checkThemes() {
  for (const theme of themes) {
    const context = await newContext({ theme });
    const page = await context.newPage();
    for (const lang of languages) {
      await open(page, new URL(`${lang}/ch03-tcp.html`, base).href);
      await page.locator("#course-search input").waitFor({ timeout: 10000 });
      await searchFor(page, searches[lang][0]);
      await runAxe(page, `${lang}/ch03-tcp.html (${theme}, search open)`, {
        runOnly: { type: "rule", values: ["color-contrast"] },
      });
    }
    await context.close();
  }
}

async function checkAddresses(page) {
  for (const [path, languagesHeader, expected] of [
    ["", "en-US,en", "/en/"],
    ["", "ja-JP,ja", "/ja/"],
    ["en", "en-US,en", "/en/"],
    ["ja", "en-US,en", "/ja/"],
  ]) {
    const context = await newContext({ locale: languagesHeader.split(",")[0] });
    const p = await context.newPage();
    const { errors } = await open(p, new URL(path, base).href);
    await p.waitForURL((u) => u.pathname.endsWith(expected), { timeout: 5000 }).catch(() => {});
    await p.waitForLoadState("load");
    const where = `/${path} (${languagesHeader})`;
    if (!new URL(p.url()).pathname.endsWith(expected)) problem(where, `ended at ${p.url()}, expected ${expected}`);
    const styled = await p.evaluate(() =>
      getComputedStyle(document.documentElement).getPropertyValue("--content-max-width").trim(),
    );
    if (!styled) problem(where, "the page loaded without its styles");
    for (const e of errors) problem(where, e);
    await context.close();
  }
  const front = await (await fetch(new URL("", base))).text();
  for (const lang of languages) {
    if (!front.includes(`href="${lang}/"`)) problem("/", `the front page has no link to ${lang}/`);
  }
  await open(page, base.replace(/\/?$/, "/") + "#stay");
  await runAxe(page, "/ (front page)");
}

async function check404(page, lang) {
  const where = `${lang}/404`;
  const { errors, response } = await open(page, new URL(`${lang}/no-such-page.html`, base).href);
  if (response.status() !== 404) problem(where, `HTTP ${response.status()}, expected 404`);
  // The 404 status of the page itself is expected (Chromium logs it as a console error).
  for (const e of errors.filter((e) => !e.includes("no-such-page") && !/status of 404/.test(e))) {
    problem(where, e);
  }
  // mdBook's variables.css defines --content-max-width: present only if the styles loaded.
  const styled = await page.evaluate(() =>
    getComputedStyle(document.documentElement).getPropertyValue("--content-max-width").trim(),
  );
  if (!styled) problem(where, "the 404 page loaded without its styles");
  const links = await page.$$eval("main a[href]", (as) => as.map((a) => new URL(a.href).pathname));
  for (const wanted of [`/${lang}/introduction.html`, `/${twinOf[lang]}/404.html`]) {
    if (!links.includes(wanted)) problem(where, `no link to ${wanted}`);
  }
  const title = await page.$eval("main h1", (h) => h.textContent).catch(() => "");
  if (lang === "ja" && !/[ぁ-んァ-ン一-龯]/.test(title)) problem(where, `the heading is not Japanese: "${title}"`);
}

/** The Japanese book's interface is Japanese; the switch keeps the section; keys; print page. */
async function checkInterface(page) {
  await open(page, new URL("ja/ch09-multicast.html", base).href);
  const ui = await page.evaluate(() => ({
    placeholder: document.querySelector("#course-search input")?.placeholder ?? "",
    previous: document.querySelector(".nav-chapters.previous")?.getAttribute("aria-label") ?? "",
    next: document.querySelector(".nav-chapters.next")?.getAttribute("aria-label") ?? "",
    help: document.querySelector("#mdbook-help-popup")?.textContent ?? "",
    themes: [...document.querySelectorAll("#mdbook-theme-list button")].map((b) => b.textContent).join(" "),
  }));
  await page.locator("#course-search input").waitFor({ timeout: 10000 });
  const placeholder = await page.locator("#course-search input").getAttribute("placeholder");
  const japanese = /[ぁ-んァ-ン一-龯]/;
  for (const [what, value] of Object.entries({ ...ui, placeholder })) {
    if (!japanese.test(value)) problem("ja interface", `${what} is not Japanese: "${value.trim().slice(0, 60)}"`);
  }
  for (const english of ["Light", "Coal", "Navy", "Keyboard shortcuts", "Previous chapter"]) {
    if (`${ui.themes} ${ui.help} ${ui.previous}`.includes(english)) problem("ja interface", `still shows "${english}"`);
  }
  await searchFor(page, "ソケット");
  const message = await page.locator("#course-search .pagefind-ui__message").textContent().catch(() => "");
  if (!japanese.test(message)) problem("ja interface", `the search message is not Japanese: "${message}"`);

  // The language switch keeps the section: the n-th heading maps to the n-th heading.
  for (const lang of languages) {
    const twin = twinOf[lang];
    await open(page, new URL(`${lang}/ch09-multicast.html`, base).href);
    const ids = await page.$$eval("main :is(h1,h2,h3,h4,h5,h6)[id]", (hs) => hs.map((h) => h.id));
    const index = ids.length - 2;
    await open(page, new URL(`${lang}/ch09-multicast.html#${encodeURIComponent(ids[index])}`, base).href);
    await Promise.all([
      page.waitForURL((u) => u.pathname.endsWith(`/${twin}/ch09-multicast.html`), { timeout: 10000 }),
      page.locator("main a.course-lang-switch").first().click(),
    ]).catch(() => {});
    const landed = decodeURIComponent(new URL(page.url()).hash.slice(1));
    const twinIds = await page.$$eval("main :is(h1,h2,h3,h4,h5,h6)[id]", (hs) => hs.map((h) => h.id));
    if (landed !== twinIds[index]) {
      problem(`${lang} language switch`, `from #${ids[index]} it opened ${page.url()}, expected #${twinIds[index]}`);
    }
  }

  // `s` and `/` focus the search box.
  for (const key of ["s", "/"]) {
    await open(page, new URL("en/ch02-udp.html", base).href);
    await page.locator("#course-search input").waitFor({ timeout: 10000 });
    await page.keyboard.press(key);
    const focused = await page.evaluate(() => document.activeElement === document.querySelector("#course-search input"));
    if (!focused) problem("keys", `"${key}" does not focus the search box`);
  }

  // The print page shows neither the search box nor the language switches.
  for (const lang of languages) {
    await open(page, new URL(`${lang}/print.html`, base).href);
    const shown = await page.evaluate(() =>
      [...document.querySelectorAll("#course-search, main a")]
        .filter((e) => e.id === "course-search" || /\/(en|ja)\/[^/]*\.html$/.test(e.href) && e.offsetParent !== null &&
          e.closest("p")?.textContent.trim() === e.textContent.trim())
        .filter((e) => e.offsetParent !== null).length,
    );
    if (shown > 0) problem(`${lang}/print.html`, `${shown} search box or language switch(es) shown`);
  }
}

// --- run ---------------------------------------------------------------------------------------
// BOOK_CHECK_ONLY=en/ch03-tcp,ja/ch09-multicast checks those pages only (light theme, desktop):
// a quick run while writing.
const only = process.env.BOOK_CHECK_ONLY?.split(",").filter(Boolean);
const desktopContext = await newContext();
const page = await desktopContext.newPage();
if (only) {
  for (const item of only) {
    const [lang, name] = item.split("/");
    await checkPage(page, lang, name, "light");
  }
  await browser.close();
  for (const p of problems) console.error(`- ${p}`);
  console.log(`${problems.length} problem(s) on ${only.join(", ")} (axe findings not shown)`);
  process.exit(problems.length > 0 ? 1 : 0);
}
// BOOK_CHECK_PARTS=search,interface runs only those parts (all by default).
const parts = process.env.BOOK_CHECK_PARTS?.split(",") ?? ["addresses", "pages", "interface", "search", "dark", "themes", "phone"];
const run = (part) => parts.includes(part);
if (run("addresses")) await checkAddresses(page);
let checked = 0;
const diagramPages = [];
for (const lang of languages.filter(() => run("pages"))) {
  for (const name of [...pages(lang), "print"]) {
    const diagrams = await checkPage(page, lang, name, "light");
    if (diagrams > 0 && name !== "print") diagramPages.push([lang, name]);
    checked += 1;
  }
  await check404(page, lang);
}
if (run("interface")) await checkInterface(page);
if (run("search")) for (const lang of languages) await checkSearch(page, lang);

if (run("dark")) {
  const darkContext = await newContext({ theme: "navy" });
  const darkPage = await darkContext.newPage();
  for (const lang of languages) {
    for (const name of pages(lang)) await checkPage(darkPage, lang, name, "navy");
  }
  await darkContext.close();
}
if (run("themes")) await checkThemes();
if (!run("phone")) diagramPages.length = 0;

const phoneContext = await newContext({ viewport: phone, isMobile: true, hasTouch: true });
const phonePage = await phoneContext.newPage();
const smallest = [];
for (const [lang, name] of diagramPages) {
  smallest.push(...(await checkDiagramLabels(phonePage, lang, name)));
  await checkDiagramLabels(page, lang, name);
}
if (smallest.length > 0) {
  console.log(`diagrams at 390 px: smallest label ${Math.min(...smallest).toFixed(1)} px over ${smallest.length} diagrams`);
} else if (run("phone") && run("pages")) {
  problem("phone", "no diagram was measured");
}
await browser.close();

if (problems.length > 0) {
  console.error(`${problems.length} problem(s) in the books:`);
  for (const p of problems) console.error(`- ${p}`);
  process.exit(1);
}
console.log(`browser check: ${checked} pages of both books (light and navy, desktop and phone), addresses, search, interface and 404 pages: all fine`);
