// The README's browser pictures (assets/serve-*.png): the lab served by `kafkalab serve`, in headless Chromium.
// Not run by the test suite. Needs `apt-get install chromium` and `npm install playwright-core`, then e.g.
//   kafkalab serve --port 30005 &
//   node tests/ui/make_browser_screenshot.js http://127.0.0.1:30005/ assets/serve-browser.png click \
//     "type:kafka-topics --create --topic events --partitions 3 --replication-factor 3" Enter wait:500 \
//     "type:produce events hello --count 20" Enter wait:1000 \
//     "type:start-consumer c1 --topic events --group g1 --from-beginning" Enter wait:3000 \
//     "type:kill-broker 1" Enter wait:14000
// Keys: click (into the terminal), type:TEXT, wait:MS, or a key name (Enter, Escape, n ...). Requests to any
// other host than localhost are refused, so the page's web font is not fetched.
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
