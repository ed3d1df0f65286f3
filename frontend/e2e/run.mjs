// npm run e2e: every e2e/*.e2e.mjs in turn against one `modconsole demo`
// (CONSOLE_URL when set, else ../modconsole started here; build it first).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { target } from './lib.mjs';

const dir = fileURLToPath(new URL('.', import.meta.url));
const t = await target();
let status = 0;
try {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.e2e.mjs')).sort()) {
    console.log(`e2e: ${f}`);
    const r = spawnSync(process.execPath, [dir + f], { stdio: 'inherit', env: { ...process.env, CONSOLE_URL: t.url } });
    if (r.status !== 0) status = 1;
  }
} finally {
  await t.close();
}
process.exit(status);
