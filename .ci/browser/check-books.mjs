// Opens both built books in headless Chromium and fails on what a reader would see go wrong:
// a page error, a failed request, a mermaid diagram that stayed text, a search that finds
// nothing, a link that does not resolve, an unstyled 404 page.
//
// Usage: node check-books.mjs http://127.0.0.1:PORT/   (the books served by `course book`)
// Chromium is Debian's (/usr/bin/chromium, or $CHROMIUM); playwright-core only drives it.

import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const base = process.argv[2];
if (!base) {
  console.error("usage: node check-books.mjs BASE_URL");
  process.exit(2);
}
const root = new URL("../../", import.meta.url);
const languages = ["en", "ja"];
// Words each book's search must find: the course's core terms in that language.
const searches = {
  en: ["socket", "retransmission"],
  ja: ["ソケット", "再送", "バインド"],
};

const problems = [];
const problem = (where, what) => problems.push(`${where}: ${what}`);

/** The pages a book's SUMMARY.md lists, as the HTML file names mdBook writes. */
function pages(lang) {
  const summary = readFileSync(new URL(`book/${lang}/src/SUMMARY.md`, root), "utf8");
  return [...summary.matchAll(/\]\(([^)]+)\.md\)/g)].map((m) => `${m[1]}.html`);
}

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
const context = await browser.newContext();
// Nothing leaves this machine: any request to another host is a problem and is not sent.
const origin = new URL(base).origin;
await context.route(
  (url) => url.origin !== origin,
  (route) => route.abort(),
);

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

async function checkPage(page, lang, file) {
  const where = `${lang}/${file}`;
  const errors = [];
  page.removeAllListeners();
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && errors.push(`console error: ${m.text()}`));
  page.on("requestfailed", (r) => {
    // A request the browser cancels itself (leaving the page) is not a failure of the book.
    if (r.failure()?.errorText !== "net::ERR_ABORTED") errors.push(`request failed: ${r.url()}`);
  });
  page.on("response", (r) => r.status() >= 400 && errors.push(`HTTP ${r.status()}: ${r.url()}`));
  await page.goto(new URL(`${lang}/${file}`, base).href, { waitUntil: "load" });

  const diagrams = await page.locator("pre.mermaid").count();
  if (diagrams > 0) {
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
  }

  const hrefs = await page.$$eval("main a[href], nav a[href]", (links) =>
    links.map((a) => a.href).filter((h) => h.startsWith(location.origin)),
  );
  for (const href of new Set(hrefs)) {
    const why = await resolves(href);
    if (why) errors.push(`link ${href} ${why}`);
  }
  const twin = languages.find((other) => other !== lang);
  if (file !== "print.html" && !hrefs.some((h) => h.endsWith(`/${twin}/${file}`))) {
    errors.push(`no link to the same page in the other language (${twin}/${file})`);
  }
  for (const e of errors) problem(where, e);
}

async function checkSearch(page, lang) {
  page.removeAllListeners();
  page.on("pageerror", (e) => problem(`${lang} search`, `page error: ${e.message}`));
  await page.goto(new URL(`${lang}/introduction.html`, base).href, { waitUntil: "load" });
  const input = page.locator("#course-search input");
  try {
    await input.waitFor({ timeout: 10000 });
  } catch {
    problem(`${lang} search`, "no search box on the page (is the Pagefind index built?)");
    return;
  }
  for (const word of searches[lang]) {
    await input.fill("");
    await input.fill(word);
    try {
      await page.waitForFunction(
        () => document.querySelectorAll("#course-search .pagefind-ui__result").length > 0,
        null,
        { timeout: 10000 },
      );
      const found = await page.locator("#course-search .pagefind-ui__result").count();
      console.log(`search ${lang} "${word}": ${found} result(s)`);
    } catch {
      problem(`${lang} search`, `nothing found for "${word}"`);
    }
  }
}

async function check404(page, lang) {
  const where = `${lang}/404`;
  const failed = [];
  page.removeAllListeners();
  page.on("requestfailed", (r) => failed.push(r.url()));
  page.on("response", (r) => r.status() >= 400 && !r.url().includes("no-such-page") && failed.push(r.url()));
  const response = await page.goto(new URL(`${lang}/no-such-page.html`, base).href);
  if (response.status() !== 404) problem(where, `HTTP ${response.status()}, expected 404`);
  for (const url of failed) problem(where, `asset not loaded: ${url}`);
  // mdBook's variables.css defines --content-max-width: present only if the styles loaded.
  const styled = await page.evaluate(() =>
    getComputedStyle(document.documentElement).getPropertyValue("--content-max-width").trim(),
  );
  if (!styled) problem(where, "the 404 page loaded without its styles");
}

const page = await context.newPage();
let checked = 0;
for (const lang of languages) {
  for (const file of [...pages(lang), "print.html"]) {
    await checkPage(page, lang, file);
    checked += 1;
  }
  await checkSearch(page, lang);
  await check404(page, lang);
}
await browser.close();

if (problems.length > 0) {
  console.error(`${problems.length} problem(s) in the books:`);
  for (const p of problems) console.error(`- ${p}`);
  process.exit(1);
}
console.log(`browser check: ${checked} pages of both books, search and 404 pages: all fine`);
