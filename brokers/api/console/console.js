// console.js - the wk console's page (wk-api(8), CONSOLE).  Plain
// JavaScript, nothing from the network: every call goes to the server that
// served this page, with the session of /manager/login as
// "Authorization: Bearer <token>".
'use strict';

const $ = (id) => document.getElementById(id);
const RING = 300;              // samples kept: five minutes at one a second
let session = JSON.parse(sessionStorage.getItem('wk-session') || 'null');
let view = 'tree';
let timers = [];

// One call to the API; the answer's JSON (or text), or throws an Error
// whose message is the server's.
async function api(method, path, body) {
	const headers = { Authorization: 'Bearer ' + (session ? session.token : '') };
	if (body !== undefined)
		headers['Content-Type'] = 'application/json';
	const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
	const text = await res.text();
	let data = text;
	try { data = JSON.parse(text); } catch (e) { /* text, e.g. /metrics */ }
	if (res.status === 401 && path !== '/manager/login') {
		logout();
		throw new Error('session ended: log in again');
	}
	if (!res.ok) {
		const msg = (data && (data.msg || data.error)) || text || res.statusText;
		const err = new Error(`${res.status}: ${msg}`);
		err.status = res.status;
		throw err;
	}
	return data;
}

function esc(s) {
	return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function ms(n) {
	if (n === undefined || n === '')
		return '';
	n = Number(n);
	if (n < 1000) return n + ' ms';
	if (n < 60000) return (n / 1000).toFixed(1) + ' s';
	if (n < 3600000) return Math.floor(n / 60000) + ' min';
	return (n / 3600000).toFixed(1) + ' h';
}

// ---- login ----
async function login(ev) {
	ev.preventDefault();
	$('login-error').textContent = '';
	try {
		session = await api('POST', '/manager/login', { username: $('user').value, password: $('pass').value });
		sessionStorage.setItem('wk-session', JSON.stringify(session));
		start();
	} catch (e) {
		$('login-error').textContent = e.message;
	}
}

function logout() {
	session = null;
	sessionStorage.removeItem('wk-session');
	timers.forEach(clearInterval);
	timers = [];
	$('app').hidden = true;
	$('logout').hidden = true;
	$('whoami').textContent = '';
	$('login-form').hidden = false;
}

function canWrite() {
	return !!session && (session.permissions === '*' || /:[a-z*]*[w*]/.test(session.permissions));
}

function start() {
	$('login-form').hidden = true;
	$('app').hidden = false;
	$('logout').hidden = false;
	$('whoami').textContent = session.username + (canWrite() ? '' : ' (read only)');
	show(view);
	pollTree();
	pollRates();
	timers.push(setInterval(pollTree, 2000), setInterval(pollRates, 1000));
}

function show(v) {
	view = v;
	document.querySelectorAll('nav button').forEach((b) => b.classList.toggle('on', b.dataset.view === v));
	document.querySelectorAll('main section').forEach((s) => { s.hidden = s.id !== 'view-' + v; });
	if (v === 'conns')
		loadConns();
}

// ---- the process tree and the webhook queue ----
let lastTree = null;

async function pollTree() {
	try {
		lastTree = (await api('GET', '/console/tree')).processes;
		$('tree-error').textContent = '';
	} catch (e) {
		$('tree-error').textContent = e.message;
		return;
	}
	const shown = ['state', 'role', 'instance', 'pid', 'uptime_ms', 'restarts'];
	$('tree').tBodies[0].innerHTML = lastTree.map((p) => {
		const rest = Object.keys(p).filter((k) => !shown.includes(k)).map((k) => `${k}=${p[k]}`).join(' ');
		const name = p.role === 'master' ? 'wk-master' : `wk-${p.role}/${p.instance}`;
		return `<tr data-role="${esc(p.role)}" data-instance="${esc(p.instance)}">` +
		    `<td>${p.role === 'master' ? '' : '&nbsp;&nbsp;└ '}${esc(name)}</td>` +
		    `<td class="state-${esc(p.state)}">${esc(p.state)}</td><td>${esc(p.pid)}</td>` +
		    `<td>${ms(p.uptime_ms)}</td><td>${esc(p.restarts)}</td><td class="kv">${esc(rest)}</td></tr>`;
	}).join('');
	const hook = lastTree.find((p) => p.role === 'hook');
	$('hooks').tBodies[0].innerHTML = hook ? Object.keys(hook).map((k) =>
	    `<tr><th>${esc(k)}</th><td data-key="${esc(k)}">${esc(hook[k])}</td></tr>`).join('') +
	    hookMetricsRows() : '<tr><td>no wk-hook in the tree</td></tr>';
}

// ---- rates: /metrics every second, a ring of samples, two charts ----
const ring = [];
let metricsMissing = false;
let lastMetrics = {};

// The Prometheus text format: name -> [{labels, value}].
function parseProm(text) {
	const out = {};
	for (const line of text.split('\n')) {
		if (!line || line[0] === '#')
			continue;
		const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
		if (!m)
			continue;
		const labels = {};
		(m[3] || '').replace(/(\w+)="((?:[^"\\]|\\.)*)"/g, (a, k, v) => { labels[k] = v; });
		(out[m[1]] = out[m[1]] || []).push({ labels, value: Number(m[4]) });
	}
	return out;
}

const sum = (m, name, pred) => (m[name] || []).filter((s) => !pred || pred(s.labels)).reduce((a, s) => a + s.value, 0);

// One sample from /metrics, or (before wk has /metrics) from the channel
// shards' "appended" counters of the process tree.
async function sample() {
	if (!metricsMissing) {
		try {
			const m = parseProm(await api('GET', '/metrics'));
			lastMetrics = m;
			const buckets = {};
			for (const s of m.wk_sendack_latency_seconds_bucket || [])
				buckets[s.labels.le] = (buckets[s.labels.le] || 0) + s.value;
			return {
				t: Date.now(), msgs: sum(m, 'wk_messages_in_total'), out: sum(m, 'wk_messages_out_total'),
				conns: sum(m, 'wk_connections'), latSum: sum(m, 'wk_sendack_latency_seconds_sum'),
				latCount: sum(m, 'wk_sendack_latency_seconds_count'), buckets,
			};
		} catch (e) {
			if (e.status !== 404)
				throw e;
			metricsMissing = true;
			$('rate-source').textContent = 'the process tree (this wk has no /metrics)';
		}
	}
	const tree = lastTree || (await api('GET', '/console/tree')).processes;
	return { t: Date.now(), msgs: tree.filter((p) => p.role === 'channel').reduce((a, p) => a + (p.appended || 0), 0) };
}

// The latency under which q of the SENDACKs between samples a and b fell.
function quantile(a, b, q) {
	if (!a.buckets || !b.buckets)
		return null;
	const les = Object.keys(b.buckets).filter((k) => k !== '+Inf').map(Number).sort((x, y) => x - y);
	const total = b.latCount - a.latCount;
	if (!(total > 0))
		return null;
	for (const le of les) {
		const key = Object.keys(b.buckets).find((k) => Number(k) === le);
		if (b.buckets[key] - (a.buckets[key] || 0) >= q * total)
			return le;
	}
	return Infinity;
}

function secs(v) {
	if (v === null || v === undefined || !isFinite(v)) return '-';
	return v < 0.001 ? (v * 1e6).toFixed(0) + ' µs' : v < 1 ? (v * 1000).toFixed(1) + ' ms' : v.toFixed(2) + ' s';
}

async function pollRates() {
	let s;
	try {
		s = await sample();
	} catch (e) {
		return;
	}
	const prev = ring[ring.length - 1];
	if (prev) {
		const dt = (s.t - prev.t) / 1000;
		s.rate = Math.max(0, (s.msgs - prev.msgs) / dt);
		if (s.out !== undefined) s.outRate = Math.max(0, (s.out - prev.out) / dt);
		if (s.latCount > prev.latCount) {
			s.latMean = (s.latSum - prev.latSum) / (s.latCount - prev.latCount);
			s.latP99 = quantile(prev, s, 0.99);
		}
	}
	ring.push(s);
	if (ring.length > RING)
		ring.shift();
	const now = $('rate-now');
	now.textContent = s.rate === undefined ? '0' : s.rate.toFixed(s.rate < 10 ? 1 : 0);
	now.dataset.samples = ring.length;   // what tests and scrapers of the page read
	now.dataset.max = Math.max(Number(now.dataset.max || 0), s.rate || 0);
	$('msgs-total').textContent = String(s.msgs);
	$('rate-out').textContent = s.outRate === undefined ? '-' : s.outRate.toFixed(0);
	$('conn-now').textContent = s.conns === undefined ? '-' : String(s.conns);
	$('lat-mean').textContent = secs(s.latMean);
	$('lat-p99').textContent = secs(s.latP99);
	if (view === 'rates') {
		chart($('rate-chart'), [{ key: 'rate', color: '#1a73e8', label: 'messages in/s' },
		    { key: 'outRate', color: '#e8710a', label: 'deliveries/s' }], (v) => v.toFixed(0));
		chart($('lat-chart'), [{ key: 'latMean', color: '#137333', label: 'SENDACK mean' },
		    { key: 'latP99', color: '#b00020', label: 'SENDACK p99' }], secs);
	}
}

// Lines of the ring's values for each series on a canvas, time on x.
function chart(cv, series, fmt) {
	const g = cv.getContext('2d'), w = cv.width, h = cv.height, pad = 30;
	let max = 0;
	for (const s of ring)
		for (const se of series)
			if (isFinite(s[se.key]) && s[se.key] > max) max = s[se.key];
	max = max || 1;
	g.clearRect(0, 0, w, h);
	g.fillStyle = '#5b6170';
	g.font = '11px sans-serif';
	g.fillText(fmt(max), 2, 12);
	g.fillText('-' + Math.round(RING) + ' s', pad, h - 4);
	series.forEach((se, i) => {
		g.strokeStyle = g.fillStyle = se.color;
		g.fillText(se.label, w - 120, 14 + 14 * i);
		g.beginPath();
		let started = false;
		ring.forEach((s, k) => {
			const v = s[se.key];
			if (!isFinite(v)) return;
			const x = pad + (w - pad) * (k + RING - ring.length) / (RING - 1);
			const y = h - pad / 2 - (h - pad) * v / max;
			started ? g.lineTo(x, y) : g.moveTo(x, y);
			started = true;
		});
		g.stroke();
	});
}

function hookMetricsRows() {
	const names = ['wk_webhook_queued', 'wk_webhook_queue_bytes', 'wk_webhook_inflight',
	    'wk_webhook_requests_total', 'wk_webhook_failures_total', 'wk_webhook_dropped_total'];
	return names.filter((n) => lastMetrics[n]).map((n) =>
	    `<tr><th>${n}</th><td data-key="${n}">${sum(lastMetrics, n)}</td></tr>`).join('');
}

// ---- connections (/connz, /conn/kick) ----
async function loadConns(ev) {
	if (ev) ev.preventDefault();
	const q = new URLSearchParams({ offset: $('conn-offset').value, limit: $('conn-limit').value, sort: $('conn-sort').value });
	if ($('conn-uid').value) q.set('uid', $('conn-uid').value);
	const t0 = performance.now();
	let d;
	try {
		d = await api('GET', '/connz?' + q);
	} catch (e) {
		$('conn-msg').textContent = e.message;
		return;
	}
	$('conn-msg').textContent = '';
	const rows = d.connections || [];
	$('conns').tBodies[0].innerHTML = rows.map((c) =>
	    `<tr data-uid="${esc(c.uid)}"><td>${esc(c.id)}</td><td>${esc(c.uid)}</td><td>${esc(c.device)}</td>` +
	    `<td>${esc(c.ip)}:${esc(c.port)}</td><td>${esc(c.uptime)}</td><td>${esc(c.idle)}</td>` +
	    `<td>${esc(c.in_msgs)}</td><td>${esc(c.out_msgs)}</td>` +
	    `<td><button class="kick" data-uid="${esc(c.uid)}" data-id="${esc(c.id)}" data-node="${esc(c.node_id)}">Kick</button></td></tr>`).join('');
	$('conn-summary').textContent = `${d.total} connections; ${rows.length} shown from ${d.offset} ` +
	    `(${Math.round(performance.now() - t0)} ms)`;
	$('conn-summary').dataset.total = d.total;
}

async function kick(b) {
	try {
		await api('POST', '/conn/kick', { uid: b.dataset.uid, conn_id: Number(b.dataset.id), node_id: Number(b.dataset.node) });
		$('conn-msg').textContent = `kicked ${b.dataset.uid} (${b.dataset.id})`;
		loadConns();
	} catch (e) {
		$('conn-msg').textContent = e.message;
	}
}

// ---- channels and members ----
function chanQuery() {
	return new URLSearchParams({ channel_id: $('chan-id').value, channel_type: $('chan-type').value });
}

async function loadChannel(ev) {
	if (ev) ev.preventDefault();
	const q = chanQuery(), out = {};
	$('chan-msg').textContent = '';
	for (const [k, path] of [['max_message_seq', '/channel/max_message_seq'], ['last_message', '/channel/last_message'],
	    ['whitelist', '/channel/whitelist']]) {
		try {
			out[k] = await api('GET', `${path}?${q}`);
		} catch (e) {
			out[k] = e.message;
		}
	}
	$('chan-info').textContent = JSON.stringify(out, null, 2);
}

async function members(add) {
	const uids = $('member-uids').value.split(',').map((s) => s.trim()).filter(Boolean);
	try {
		await api('POST', add ? '/channel/subscriber_add' : '/channel/subscriber_remove',
		    { channel_id: $('chan-id').value, channel_type: Number($('chan-type').value), subscribers: uids });
		$('chan-msg').textContent = `${add ? 'added' : 'removed'} ${uids.length} member(s)`;
	} catch (e) {
		$('chan-msg').textContent = e.message;
	}
}

// ---- message search (/channel/messagesync) ----
function payloadText(p) {
	try {
		const bin = atob(p), bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
		return new TextDecoder().decode(bytes);
	} catch (e) {
		return p;
	}
}

async function searchMessages(ev) {
	ev.preventDefault();
	const start = Number($('msg-start').value);
	let d;
	try {
		d = await api('POST', '/channel/messagesync', {
			login_uid: $('msg-login').value, channel_id: $('msg-chan').value,
			channel_type: Number($('msg-type').value), start_message_seq: start,
			end_message_seq: 0, limit: Number($('msg-limit').value), pull_mode: 1,
		});
	} catch (e) {
		$('msg-msg').textContent = e.message;
		return;
	}
	const want = $('msg-text').value;
	const msgs = (d.messages || []).filter((m) => !want || payloadText(m.payload).includes(want));
	$('msg-msg').textContent = `${msgs.length} message(s)`;
	$('msgs').tBodies[0].innerHTML = msgs.map((m) =>
	    `<tr><td>${esc(m.message_seq)}</td><td>${esc(m.message_idstr || m.message_id)}</td><td>${esc(m.from_uid)}</td>` +
	    `<td>${esc(new Date(m.timestamp * 1000).toISOString())}</td><td>${esc(payloadText(m.payload))}</td></tr>`).join('');
}

// ---- wiring ----
$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', logout);
document.querySelectorAll('nav button').forEach((b) => b.addEventListener('click', () => show(b.dataset.view)));
$('conn-form').addEventListener('submit', loadConns);
$('conns').addEventListener('click', (ev) => { if (ev.target.classList.contains('kick')) kick(ev.target); });
$('chan-form').addEventListener('submit', loadChannel);
$('member-add').addEventListener('click', () => members(true));
$('member-remove').addEventListener('click', () => members(false));
$('msg-form').addEventListener('submit', searchMessages);
if (session)
	start();
