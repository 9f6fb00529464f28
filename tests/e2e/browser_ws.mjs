// browser_ws.mjs - WebSockets opened by a page in Debian's headless
// chromium, driven by puppeteer-core, for tests/e2e/check_browser.c (run by
// sdk_driver.c like sdk_client.mjs): what a browser does, not what Node's
// `ws` does, when wk answers or refuses a socket.
//
//   node browser_ws.mjs --addr=ws://127.0.0.1:5200 [--modules=DIR]
//        [--chromium=/usr/bin/chromium]
//
// Commands, one per line on stdin:
//   open NAME HEX      new WebSocket NAME in the page; once open it sends the
//                      bytes HEX as one binary message (HEX "-": nothing)
//   text NAME STRING   send STRING (the rest of the line) as a text message
//   close NAME CODE    NAME.close(CODE), as a page does
//   exit               close the browser and exit (so does end of stdin)
// Output, one JSON object per line with "ev" and "t" (ms since start):
//   {"ev":"loaded","browser":"Chrome/..."}
//   {"ev":"open","name":"a"}
//   {"ev":"rx","name":"a","type":2,"hex":"20..."}   a binary message (type = first byte >> 4)
//   {"ev":"rxtext","name":"a","text":"{...}"}        a text message
//   {"ev":"closed","name":"a","code":1000,"reason":"","wasClean":true,"ms":12}
//                      onclose; ms counts from close() (from open when
//                      the server closed first)
//   {"ev":"error","msg":"..."} (then exit 70)          {"ev":"bye"}
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { commands, fail, failOnUncaught, options, out } from './driver_io.mjs';

failOnUncaught();
const opts = options({ chromium: '/usr/bin/chromium' });
if (!opts.addr)
	fail('--addr is required');

const modules = opts.modules || join(dirname(fileURLToPath(import.meta.url)), 'node_modules');
const req = createRequire(join(modules, 'noop.js'));
const puppeteer = (await import(pathToFileURL(req.resolve('puppeteer-core')).href)).default;

const browser = await puppeteer.launch({
	executablePath: opts.chromium,
	headless: true,
	args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'],
});
const page = await browser.newPage();
// The page reports through one function; the test sees its lines.
await page.exposeFunction('report', (ev, obj) => out(ev, obj));
await page.evaluate((addr) => {
	window.socks = {};
	window.wsOpen = (name, hex) => {
		const ws = new WebSocket(addr);
		const s = { ws, since: performance.now() };
		ws.binaryType = 'arraybuffer';
		window.socks[name] = s;
		ws.onopen = () => {
			report('open', { name });
			if (hex !== '-')
				ws.send(new Uint8Array(hex.match(/../g).map((h) => parseInt(h, 16))));
		};
		ws.onmessage = (e) => {
			if (typeof e.data === 'string') {
				report('rxtext', { name, text: e.data });
				return;
			}
			const u8 = new Uint8Array(e.data);
			report('rx', { name, type: u8[0] >> 4,
			    hex: Array.from(u8.subarray(0, 64), (b) => b.toString(16).padStart(2, '0')).join('') });
		};
		ws.onclose = (e) => report('closed', { name, code: e.code, reason: e.reason,
		    wasClean: e.wasClean, ms: Math.round(performance.now() - s.since) });
	};
	window.wsClose = (name, code) => {
		window.socks[name].since = performance.now();
		window.socks[name].ws.close(code);
	};
	window.wsText = (name, text) => window.socks[name].ws.send(text);
}, opts.addr);
out('loaded', { browser: await browser.version() });

async function bye(code) {
	await browser.close().catch(() => {});
	out('bye');
	process.exit(code);
}

commands((cmd) => {
	let m;
	if ((m = /^open (\S+) (\S+)$/.exec(cmd)))
		page.evaluate((n, h) => window.wsOpen(n, h), m[1], m[2]).catch(fail);
	else if ((m = /^text (\S+) (.*)$/s.exec(cmd)))
		page.evaluate((n, t) => window.wsText(n, t), m[1], m[2]).catch(fail);
	else if ((m = /^close (\S+) (\d+)$/.exec(cmd)))
		page.evaluate((n, c) => window.wsClose(n, c), m[1], Number(m[2])).catch(fail);
	else if (cmd === 'exit')
		bye(0);
	else if (cmd !== '')
		out('error', { msg: `unknown command ${cmd}` });
}, () => bye(0));
