// console_browser.mjs - the console and demo pages in Debian's headless
// chromium, driven by puppeteer-core, for tests/e2e/check_console.c.
//
//   node console_browser.mjs --modules=DIR SCENARIO URL [ARGS...]
//
// Each scenario does what a person would in the pages and prints one line
// "RESULT <json>" of what it saw; the C test asserts on it.  Scenarios:
//   tree URL USER PASS N     log in, read the process tree, send N
//                            messages through the console's session, watch
//                            the rate and the total move
//   readonly URL USER PASS   a change (add members, kick) refused with 403
//   badlogin URL USER PASS   the login refused, the console stays closed
//   conns URL USER PASS      open the connections view: its load time
//   load URL USER PASS       every view's load time, as a person opens them
//                            (bench/console.sh, with many connections)
//   demo URL UID1 TOK1 UID2 TOK2   two tabs chat with each other
import { createRequire } from 'node:module';
import path from 'node:path';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--modules='));
const modules = (process.argv.find((a) => a.startsWith('--modules=')) || '').slice(10);
const require = createRequire(path.join(modules, 'noop.js'));
const puppeteer = require('puppeteer-core');
const [scenario, url, ...rest] = args;
const result = { scenario, console_errors: [] };

// A hard bound: a hung browser fails the test instead of its timeout.
setTimeout(() => {
	console.log('RESULT ' + JSON.stringify({ ...result, error: 'timed out' }));
	process.exit(1);
}, 60000).unref();

const browser = await puppeteer.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-dev-shm-usage'],
});

async function open(u) {
	const page = await browser.newPage();
	// HTTP errors the scenario provokes (401, 403, 404 before wk had
	// /metrics) are asserted on by the scenarios, not counted here.
	page.on('console', (m) => {
		if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
			result.console_errors.push(m.text());
	});
	page.on('pageerror', (e) => result.console_errors.push(String(e)));
	// Nothing but the server under test: a request elsewhere is an error.
	const origin = new URL(u).origin, ws = [];
	await page.setRequestInterception(true);
	page.on('request', (r) => {
		const ru = new URL(r.url());
		if (ru.origin !== origin && ru.protocol !== 'data:') {
			result.console_errors.push('request outside the server: ' + r.url());
			r.abort();
		} else
			r.continue();
	});
	await page.goto(u, { waitUntil: 'load' });
	return page;
}

async function login(page, user, pass) {
	await page.type('#user', user);
	await page.type('#pass', pass);
	await page.click('#login');
}

const text = (page, sel) => page.$eval(sel, (e) => e.textContent);

try {
	if (scenario === 'tree') {
		const [user, pass, n] = rest;
		const page = await open(url);
		await login(page, user, pass);
		await page.waitForSelector('#tree tr[data-role="channel"]', { timeout: 10000 });
		result.roles = await page.$$eval('#tree tbody tr', (rows) => rows.map((r) => r.dataset.role));
		result.states = await page.$$eval('#tree tbody tr td:nth-child(2)', (c) => c.map((e) => e.textContent));
		await page.click('nav button[data-view="rates"]');
		// Two samples, so the rate is known before the messages.
		await page.waitForFunction(() => Number(document.getElementById('rate-now').dataset.samples) >= 2,
		    { timeout: 10000 });
		result.total_before = Number(await text(page, '#msgs-total'));
		result.source = await text(page, '#rate-source');
		result.sent = await page.evaluate(async (n) => {
			const session = JSON.parse(sessionStorage.getItem('wk-session'));
			let ok = 0;
			for (let i = 0; i < n; i++) {
				const res = await fetch('/message/send', {
					method: 'POST', headers: { Authorization: 'Bearer ' + session.token },
					body: JSON.stringify({ from_uid: 'rate-a', channel_id: 'rate-b', channel_type: 1,
						payload: btoa('message ' + i) }),
				});
				ok += res.status === 200;
			}
			return ok;
		}, Number(n));
		await page.waitForFunction((want) => Number(document.getElementById('msgs-total').textContent) >= want,
		    { timeout: 10000 }, result.total_before + Number(n));
		// One more sample: the total must not move past what was sent.
		const k = Number(await page.$eval('#rate-now', (e) => e.dataset.samples));
		await page.waitForFunction((k) => Number(document.getElementById('rate-now').dataset.samples) > k,
		    { timeout: 5000 }, k);
		result.max_rate = Number(await page.$eval('#rate-now', (e) => e.dataset.max));
		result.total_after = Number(await text(page, '#msgs-total'));
		await page.screenshot({ path: process.env.WK_CONSOLE_SHOT || '/dev/null', type: 'png' }).catch(() => {});
	} else if (scenario === 'readonly') {
		const [user, pass] = rest;
		const page = await open(url);
		await login(page, user, pass);
		await page.waitForSelector('#tree tr[data-role="channel"]', { timeout: 10000 });
		result.whoami = await text(page, '#whoami');
		await page.click('nav button[data-view="channels"]');
		await page.type('#chan-id', 'ro-group');
		await page.type('#member-uids', 'x1,x2');
		await page.click('#member-add');
		await page.waitForFunction(() => document.getElementById('chan-msg').textContent !== '', { timeout: 5000 });
		result.members_msg = await text(page, '#chan-msg');
		result.kick_status = await page.evaluate(async () => {
			const session = JSON.parse(sessionStorage.getItem('wk-session'));
			const res = await fetch('/conn/kick', { method: 'POST', headers: { Authorization: 'Bearer ' + session.token },
				body: JSON.stringify({ uid: 'someone', conn_id: 1, node_id: 1001 }) });
			return res.status;
		});
		result.read_status = await page.evaluate(async () => {
			const session = JSON.parse(sessionStorage.getItem('wk-session'));
			return (await fetch('/channel/max_message_seq?channel_id=ro-group&channel_type=2',
			    { headers: { Authorization: 'Bearer ' + session.token } })).status;
		});
	} else if (scenario === 'badlogin') {
		const [user, pass] = rest;
		const page = await open(url);
		await login(page, user, pass);
		await page.waitForFunction(() => document.getElementById('login-error').textContent !== '', { timeout: 5000 });
		result.error = await text(page, '#login-error');
		result.app_hidden = await page.$eval('#app', (e) => e.hidden);
		result.tree_status = await page.evaluate(async () => (await fetch('/console/tree')).status);
	} else if (scenario === 'conns') {
		const [user, pass] = rest;
		const page = await open(url);
		await login(page, user, pass);
		await page.waitForSelector('#tree tr[data-role="channel"]', { timeout: 10000 });
		const t0 = Date.now();
		await page.click('nav button[data-view="conns"]');
		await page.waitForFunction(() => document.getElementById('conn-summary').textContent !== '' ||
		    document.getElementById('conn-msg').textContent !== '', { timeout: 10000 });
		result.load_ms = Date.now() - t0;
		result.summary = await text(page, '#conn-summary');
		result.msg = await text(page, '#conn-msg');
		result.rows = await page.$$eval('#conns tbody tr', (r) => r.length);
	} else if (scenario === 'load') {
		const [user, pass] = rest;
		// From asking for the page to seeing its content, per view.
		let t0 = Date.now();
		const page = await open(url);
		result.page_ms = Date.now() - t0;
		t0 = Date.now();
		await login(page, user, pass);
		await page.waitForSelector('#tree tr[data-role="channel"]', { timeout: 10000 });
		result.login_tree_ms = Date.now() - t0;
		t0 = Date.now();
		await page.click('nav button[data-view="conns"]');
		await page.waitForFunction(() => document.getElementById('conn-summary').dataset.total !== undefined,
		    { timeout: 10000 });
		result.conns_ms = Date.now() - t0;
		result.total = Number(await page.$eval('#conn-summary', (e) => e.dataset.total));
		result.rows = await page.$$eval('#conns tbody tr', (r) => r.length);
		result.sorted_ms = {};
		for (const sort of ['idleDesc', 'uptimeDesc', 'inMsgDesc', 'outMsgDesc', 'pendingBytesDesc']) {
			await page.$eval('#conn-summary', (e) => { e.textContent = ''; });
			await page.select('#conn-sort', sort);
			await page.$eval('#conn-offset', (e) => { e.value = '25000'; });
			t0 = Date.now();
			await page.click('#conn-form button[type="submit"]');
			await page.waitForFunction(() => document.getElementById('conn-summary').textContent !== '',
			    { timeout: 10000 });
			result.sorted_ms[sort] = Date.now() - t0;
		}
		t0 = Date.now();
		await page.click('nav button[data-view="hooks"]');
		await page.waitForFunction(() => document.querySelectorAll('#hooks tbody tr').length > 0,
		    { timeout: 10000 });
		result.hooks_ms = Date.now() - t0;
		t0 = Date.now();
		await page.click('nav button[data-view="rates"]');
		await page.waitForFunction(() => Number(document.getElementById('rate-now').dataset.samples) >= 1,
		    { timeout: 10000 });
		result.rates_ms = Date.now() - t0;
		result.msg = await text(page, '#conn-msg');
	} else if (scenario === 'demo') {
		const [u1, t1, u2, t2] = rest;
		const a = await open(url), b = await open(url);
		// Each tab is brought to the front before it is typed in: Debian's
		// headless chromium (156) went away on input to a background tab.
		const join = async (page, uid, tok, peer) => {
			await page.bringToFront();
			await page.type('#uid', uid);
			await page.type('#token', tok);
			await page.type('#peer', peer);
			await page.click('#connect');
			await page.waitForFunction(() => document.getElementById('status').textContent === 'connected',
			    { timeout: 10000, polling: 100 });
		};
		await join(a, u1, t1, u2);
		await join(b, u2, t2, u1);
		const say = async (page, words) => {
			await page.bringToFront();
			await page.type('#text', words);
			await page.click('#send');
		};
		// Polled by interval: a background tab gets no animation frames.
		const seen = (page, words) => page.waitForFunction((w) => [...document.querySelectorAll('#log .msg:not(.mine)')]
		    .some((e) => e.textContent.endsWith(w)), { timeout: 10000, polling: 100 }, words);
		await say(a, 'hello from ' + u1);
		await seen(b, 'hello from ' + u1);
		await say(b, 'hello back from ' + u2);
		await seen(a, 'hello back from ' + u2);
		result.log_a = await a.$$eval('#log .msg', (m) => m.map((e) => e.textContent));
		result.log_b = await b.$$eval('#log .msg', (m) => m.map((e) => e.textContent));
	} else
		throw new Error('unknown scenario ' + scenario);
	result.ok = true;
} catch (e) {
	result.error = String(e && e.stack || e);
}
await browser.close();
console.log('RESULT ' + JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
