// usage: node shot.js URL OUT.png [keys...]  — opens the served lab, waits for it, types keys, screenshots
const { chromium } = require('playwright-core');
(async () => {
  const [url, out, ...keys] = process.argv.slice(2);
  const dir = require('fs').mkdtempSync('/tmp/pw-');
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  await page.route(/^https?:\/\/(?!127\.0\.0\.1|localhost)/, r => r.abort());  // nothing beyond localhost
  page.on('websocket', ws => console.log('websocket', ws.url()));
  await page.goto(url);
  await page.waitForTimeout(6000);
  for (const k of keys) {
    if (k === 'click') await page.mouse.click(700, 860);
    else if (k.startsWith('type:')) await page.keyboard.type(k.slice(5), { delay: 40 });
    else if (k.startsWith('wait:')) await page.waitForTimeout(parseInt(k.slice(5)));
    else await page.keyboard.press(k);
    await page.waitForTimeout(400);
  }
  await page.waitForTimeout(1500);
  await page.screenshot({ path: out });
  console.log('saved', out);
  await ctx.close();
})().catch(e => { console.error(e); process.exit(1); });
