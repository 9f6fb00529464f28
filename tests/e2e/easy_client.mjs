// easy_client.mjs - a client that speaks JSON-RPC over WebSocket text
// frames exactly as WuKongEasySDK does (WuKongEasySDK-JS src/index.ts:
// sendConnectRequest, send, sendRecvAck, startPing, handleMessage), for
// tests/e2e/check_easy.c.  The SDK itself (easyjssdk) cannot be installed
// from npm here, so its frames are reproduced field for field: requests
// {method, params, id} with a random UUID id, recvack as a notification, the
// payload as base64 of its JSON (the SDK's wire form since 2025).
//
//   node easy_client.mjs --addr=ws://127.0.0.1:5200 --uid=u --token=t
//        [--device-flag=2] [--modules=DIR] [--no-auto-ack] [--no-connect]
//
// Commands, one per line on stdin:
//   send CHANNEL TYPE TEXT   send {"type":1,"content":TEXT} (the rest of the line)
//   ping                     a ping request
//   raw TEXT                 TEXT as one text message, as it is
//   close CODE               ws.close(CODE)
//   exit
// Output, one JSON object per line with "ev" and "t":
//   {"ev":"open"}  {"ev":"connected","result":{...}}  {"ev":"connect_error","error":{...}}
//   {"ev":"sendack","clientMsgNo":"...","result":{...}} / {"ev":"send_error",...,"error":{...}}
//   {"ev":"pong","result":null}
//   {"ev":"message","params":{...},"content":{...}}   a recv notification, its payload decoded
//                                                   (a recvack went back unless --no-auto-ack)
//   {"ev":"event","params":{...}}  {"ev":"disconnect","params":{...}}
//   {"ev":"response","msg":{...}}  an answer to no request of ours (e.g. to raw)
//   {"ev":"closed","code":1000,"reason":""}  {"ev":"error","msg":"..."}  {"ev":"bye"}
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { commands, failOnUncaught, options, out } from './driver_io.mjs';

failOnUncaught();
const opts = options({ 'device-flag': '2' });

const modules = opts.modules || join(dirname(fileURLToPath(import.meta.url)), 'node_modules');
const req = createRequire(join(modules, 'noop.js'));
const WS = (await import(pathToFileURL(req.resolve('ws')).href)).default;

const pending = new Map();   // request id -> what to report
const ws = new WS(opts.addr);
const request = (method, params, report) => {
	const id = randomUUID();
	pending.set(id, report);
	ws.send(JSON.stringify({ method, params, id }));
};
const b64 = (obj) => Buffer.from(JSON.stringify(obj), 'utf8').toString('base64');

ws.on('open', () => {
	out('open');
	if (opts['no-connect'])
		return;
	request('connect', { uid: opts.uid, token: opts.token,
	    deviceId: `web_${randomUUID().slice(0, 8)}_${Date.now()}`,
	    deviceFlag: Number(opts['device-flag']), clientTimestamp: Date.now() },
	    (m) => out(m.error ? 'connect_error' : 'connected', m.error ? { error: m.error } : { result: m.result }));
});
ws.on('message', (data, isBinary) => {
	if (isBinary) {
		out('error', { msg: 'a binary message on a JSON-RPC connection' });
		return;
	}
	const m = JSON.parse(data.toString());
	if ('id' in m) {
		const report = pending.get(m.id);
		pending.delete(m.id);
		if (report)
			report(m);
		else
			out('response', { msg: m });
	} else if (m.method === 'recv') {
		const content = JSON.parse(Buffer.from(m.params.payload, 'base64').toString('utf8'));
		out('message', { params: m.params, content });
		if (!opts['no-auto-ack'])
			ws.send(JSON.stringify({ method: 'recvack', params: { header: m.params.header,
			    messageId: m.params.messageId, messageSeq: m.params.messageSeq } }));
	} else if (m.method === 'event' || m.method === 'disconnect' || m.method === 'pong')
		out(m.method, { params: m.params });
	else
		out('error', { msg: `unexpected ${data}` });
});
ws.on('close', (code, reason) => out('closed', { code, reason: reason.toString() }));
ws.on('error', (e) => out('ws_error', { msg: String(e) }));

function bye(code) {
	try {
		ws.terminate();
	} catch {
		// already closed
	}
	out('bye');
	process.exit(code);
}

commands((cmd) => {
	let m;
	if ((m = /^send (\S+) (\d+) (.*)$/s.exec(cmd))) {
		const clientMsgNo = randomUUID();
		request('send', { clientMsgNo, channelId: m[1], channelType: Number(m[2]),
		    payload: b64({ type: 1, content: m[3] }), header: { redDot: true } },
		    (r) => out(r.error ? 'send_error' : 'sendack', { clientMsgNo, result: r.result, error: r.error }));
	} else if (cmd === 'ping')
		request('ping', {}, (r) => out('pong', { result: r.result }));
	else if ((m = /^raw (.*)$/s.exec(cmd)))
		ws.send(m[1]);
	else if ((m = /^close (\d+)$/.exec(cmd)))
		ws.close(Number(m[1]));
	else if (cmd === 'exit')
		bye(0);
	else if (cmd !== '')
		out('error', { msg: `unknown command ${cmd}` });
}, () => bye(0));
