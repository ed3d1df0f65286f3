// Fails when any source file uses an HTML-parsing DOM sink or another way
// for data to become markup or code. Chat data must only ever reach the page
// as text: Svelte's {expressions} (escaped), textContent, createTextNode.
//
//   node scripts/check-dom.mjs            scan src/ and index.html
//
// A line may opt out with the comment `check-dom: allow` (a guard, not a sink).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** RULES apply to every scanned file: [pattern, what it is]. */
export const RULES = [
  [/\{@html\b/, 'Svelte {@html} renders a string as HTML'],
  [/\binnerHTML\b/, 'innerHTML (also bind:innerHTML)'],
  [/\bouterHTML\b/, 'outerHTML'],
  [/\binsertAdjacentHTML\b/, 'insertAdjacentHTML'],
  [/\bdocument\s*\.\s*write(ln)?\b/, 'document.write'],
  [/\bcreateContextualFragment\b/, 'Range.createContextualFragment'],
  [/\bsrcdoc\b/, 'iframe srcdoc'],
  [/\bDOMParser\b/, 'DOMParser'],
  [/\bparseHTMLUnsafe\b/, 'Document.parseHTMLUnsafe'],
  [/\bsetHTMLUnsafe\b/, 'setHTMLUnsafe'],
  [/\bsetHTML\b/, 'setHTML'],
  [/\bnew\s+Function\b/, 'new Function'],
  [/\beval\s*\(/, 'eval'],
  [/\bset(Timeout|Interval)\s*\(\s*['"`]/, 'setTimeout/setInterval with a string'],
  [/javascript\s*:/i, 'a javascript: URL'],
  [/\bvbscript\s*:/i, 'a vbscript: URL'],
  [/<svelte:element\b/, '<svelte:element> (a tag chosen at run time)'],
  [/<(iframe|frame|object|embed|base)\b/i, 'an <iframe>/<object>/<embed>/<base> element'],
  [/\bxlink:href\b/, 'xlink:href'],
  [/\.\s*setAttribute\s*\(\s*['"`](on\w+|href|src|srcdoc|formaction|style)['"`]/, 'setAttribute of a handler, URL or style attribute'],
  [/\bassign\s*\(\s*document\b/, 'Object.assign onto document'],
];

/** MARKUP_RULES apply to HTML and Svelte markup only. */
export const MARKUP_RULES = [
  [/\sstyle\s*=/i, 'an inline style attribute (the CSP forbids it; use style: directives)'],
  [/\son[a-z]+\s*=\s*["']/i, 'an inline event handler string'],
  [/<script\b(?![^>]*\blang=["']ts["'])(?![^>]*\bsrc=)[^>]*>/i, 'an inline <script> that is not the component\'s TypeScript'],
];

/** scan returns the forbidden uses in one file's text. */
export function scan(text, file) {
  const markup = /\.(html|svelte)$/.test(file);
  const found = [];
  text.split('\n').forEach((line, i) => {
    if (line.includes('check-dom: allow')) return;
    for (const [re, what] of markup ? [...RULES, ...MARKUP_RULES] : RULES) {
      if (re.test(line)) found.push({ line: i + 1, what, text: line.trim() });
    }
  });
  return found;
}

function walk(p, out) {
  const st = statSync(p);
  if (st.isDirectory()) {
    for (const e of readdirSync(p)) walk(join(p, e), out);
  } else if (/\.(ts|tsx|js|mjs|html|svelte)$/.test(p)) {
    out.push(p);
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  let bad = 0;
  let files = 0;
  for (const d of ['src', 'index.html']) {
    for (const f of walk(join(root, d), [])) {
      files++;
      for (const x of scan(readFileSync(f, 'utf8'), f)) {
        console.error(`${relative(root, f)}:${x.line}: forbidden: ${x.what}: ${x.text}`);
        bad++;
      }
    }
  }
  console.log(`check:dom: ${files} files scanned, ${bad} forbidden use${bad === 1 ? '' : 's'}`);
  process.exit(bad ? 1 : 0);
}
