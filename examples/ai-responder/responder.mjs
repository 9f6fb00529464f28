// responder.mjs - an example AI-reply responder for wk (a separate program,
// not part of the server): it learns from the msg.notify webhook that a user
// wrote to its uid, and answers with a stream message through the HTTP API:
// POST /message/send with is_stream 1 (the anchor), then one POST
// /message/event stream.delta per piece every 100-300 ms, then stream.close.
// Clients at protocol version 5 see EVENT packets, older ones (the npm SDK)
// a stream of RECVs; anyone who comes later reads the whole text from
// /channel/messagesync (stream_data).  See README.md here.
//
//   node responder.mjs [--api=http://127.0.0.1:5001] [--uid=ai-bot]
//        [--listen=127.0.0.1:8700] [--token=MANAGER_TOKEN] [--min-ms=100] [--max-ms=300]
//
// Point wk at it with webhook.httpAddr: http://127.0.0.1:8700 in wk.yaml.
// It prints one JSON line per thing it does on stdout:
//   {"ev":"listening","addr":"127.0.0.1:8700"}
//   {"ev":"question","from":"alice","text":"..."}
//   {"ev":"piece","client_msg_no":"...","n":1,"text":"..."}
//   {"ev":"answered","client_msg_no":"...","pieces":7}
//   {"ev":"error","msg":"..."}
// Node 18 or later (fetch).
import http from 'node:http';

const opts = { api: 'http://127.0.0.1:5001', uid: 'ai-bot', listen: '127.0.0.1:8700',
    token: '', 'min-ms': '100', 'max-ms': '300' };
for (const a of process.argv.slice(2)) {
	const m = /^--([a-z-]+)=(.*)$/s.exec(a);
	if (!m || !(m[1] in opts)) {
		process.stderr.write(`responder: bad argument ${a}\n`);
		process.exit(2);
	}
	opts[m[1]] = m[2];
}
const minMs = Number(opts['min-ms']), maxMs = Number(opts['max-ms']);
const out = (ev, obj = {}) => process.stdout.write(JSON.stringify({ ev, ...obj }) + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(path, body) {
	const headers = { 'Content-Type': 'application/json' };
	if (opts.token)
		headers.token = opts.token;
	const res = await fetch(opts.api + path, { method: 'POST', headers, body: JSON.stringify(body) });
	const text = await res.text();
	if (res.status !== 200)
		throw new Error(`${path}: HTTP ${res.status} ${text}`);
	return text ? JSON.parse(text) : null;
}

// The "model": a canned answer that quotes the question, in word pieces.
function answer(question) {
	const words = `You asked: "${question}". Here is a streamed reply, word by word, ending now.`
	    .split(/(?<= )/);
	return words;
}

async function reply(to, question, messageId) {
	const cmn = `ai-${messageId}`;
	const content = Buffer.from(JSON.stringify({ type: 1, content: '' })).toString('base64');
	await api('/message/send', { from_uid: opts.uid, channel_id: to, channel_type: 1,
	    client_msg_no: cmn, is_stream: 1, payload: content });
	const pieces = answer(question);
	for (let i = 0; i < pieces.length; i++) {
		await sleep(minMs + Math.random() * (maxMs - minMs));
		await api('/message/event', { from_uid: opts.uid, channel_id: to, channel_type: 1,
		    client_msg_no: cmn, event_id: `${cmn}-${i + 1}`, event_type: 'stream.delta',
		    payload: { kind: 'text', delta: pieces[i] } });
		out('piece', { client_msg_no: cmn, n: i + 1, text: pieces[i] });
	}
	await api('/message/event', { from_uid: opts.uid, channel_id: to, channel_type: 1,
	    client_msg_no: cmn, event_id: `${cmn}-end`, event_type: 'stream.close' });
	out('answered', { client_msg_no: cmn, pieces: pieces.length });
}

// msg.notify: a JSON array of MessageResp.  A person message to our uid from
// someone else is a question; everything else (our own replies included)
// is not.  Webhooks may come again: a message id is answered once.
const seen = new Set();
function onNotify(messages) {
	for (const m of Array.isArray(messages) ? messages : []) {
		if (m.channel_type !== 1 || m.channel_id !== opts.uid || !m.from_uid || m.from_uid === opts.uid)
			continue;
		const id = String(m.message_idstr || m.message_id);
		if (seen.has(id))
			continue;
		seen.add(id);
		let text = '';
		try {
			const p = JSON.parse(Buffer.from(m.payload || '', 'base64').toString('utf8'));
			text = typeof p.content === 'string' ? p.content : '';
		} catch {
			text = '';
		}
		out('question', { from: m.from_uid, text });
		reply(m.from_uid, text, id).catch((e) => out('error', { msg: String(e.message || e) }));
	}
}

const server = http.createServer((req, res) => {
	let body = '';
	req.setEncoding('utf8');
	req.on('data', (c) => { body += c; });
	req.on('end', () => {
		// Answer at once (wk-hook retries what is not answered 200).
		res.writeHead(200, { 'Content-Type': 'application/json' });
		res.end('{}');
		const event = new URL(req.url, 'http://x').searchParams.get('event');
		if (event !== 'msg.notify')
			return;
		try {
			onNotify(JSON.parse(body));
		} catch (e) {
			out('error', { msg: `bad msg.notify body: ${e.message}` });
		}
	});
});
const [host, port] = [opts.listen.slice(0, opts.listen.lastIndexOf(':')),
    Number(opts.listen.slice(opts.listen.lastIndexOf(':') + 1))];
server.listen(port, host, () => out('listening', { addr: `${host}:${server.address().port}` }));
