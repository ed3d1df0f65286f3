// Fails when any source file uses an HTML-parsing DOM sink. Chat data must
// only ever reach the page as text nodes (textContent, createTextNode).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dirs = ['src', 'index.html'];
const banned = [
  /\binnerHTML\b/,
  /\bouterHTML\b/,
  /\binsertAdjacentHTML\b/,
  /\bdocument\s*\.\s*write(ln)?\b/,
  /\bcreateContextualFragment\b/,
  /\bsrcdoc\b/,
  /\bDOMParser\b/,
  /\bparseHTMLUnsafe\b/,
  /\bsetHTMLUnsafe\b/,
  /\bnew\s+Function\b/,
  /\beval\s*\(/,
  /\bstyle\s*=/i, // inline style attributes in HTML would break the CSP
];

function walk(p, out) {
  const st = statSync(p);
  if (st.isDirectory()) {
    for (const e of readdirSync(p)) walk(join(p, e), out);
  } else if (/\.(ts|tsx|js|mjs|html)$/.test(p)) {
    out.push(p);
  }
  return out;
}

let bad = 0;
let files = 0;
for (const d of dirs) {
  for (const f of walk(join(root, d), [])) {
    files++;
    const lines = readFileSync(f, 'utf8').split('\n');
    lines.forEach((line, i) => {
      // element.style.x = ... from JS is allowed under CSP; only `style=` in markup is banned.
      const checked = f.endsWith('.html') ? banned : banned.slice(0, -1);
      for (const re of checked) {
        if (re.test(line) && !line.includes('check-dom: allow')) {
          console.error(`${relative(root, f)}:${i + 1}: forbidden DOM sink ${re}: ${line.trim()}`);
          bad++;
        }
      }
    });
  }
}
console.log(`check:dom: ${files} files scanned, ${bad} forbidden use${bad === 1 ? '' : 's'}`);
process.exit(bad ? 1 : 0);
