// sdk_client.mjs - one user of the official WuKongIM JS SDK (wukongimjssdk
// 1.0.4 from npm) over WebSocket, driven by tests/e2e/sdk_driver.c.
//
//   node <loader flag> sdk_client.mjs --addr=ws://127.0.0.1:5200 --uid=u --token=t
//        [--device-flag=1] [--heartbeat=500] [--modules=DIR] [--on-kick=none|disconnect]
//        [--no-connect] [--verbose]
//
// The loader flag is `--import <dir>/register.mjs` (Node 20.6+, 18.19+) or
// `--experimental-loader <dir>/loader-hooks.mjs` (older Node 18).
// --modules is the node_modules directory holding wukongimjssdk and ws
// (default: node_modules next to this file).
//
// Output: one JSON object per line on stdout, each with "ev" and "t" (ms
// since start):
//   {"ev":"loaded","node":"v20.20.2","sdk":"1.0.4","ws":"8.23.0"}
//   {"ev":"ws_new","n":1,"addr":"ws://..."}    a WebSocket was constructed (n counts them)
//   {"ev":"ws_open","n":1} / {"ev":"ws_close","n":1,"code":1006,"reason":""} / {"ev":"ws_error","n":1,"msg":"..."}
//   {"ev":"tx","n":1,"type":7,"len":1,"hex":"70"}    one packet the SDK wrote (type = first byte >> 4)
//   {"ev":"rx","n":1,"type":8,"len":1,"packets":1,"hex":"80"}  one WS message the server sent
//                                                   (packets: how many it holds, -1 if truncated)
//   {"ev":"status","status":1,"reason":1}           the SDK's connect-status listener
//   {"ev":"app_disconnect","why":"kick"}            --on-kick=disconnect called disconnect()
//   {"ev":"state","connected":true,"status":1,"needReconnect":true,"pingRetryCount":0,"sockets":1}
//   {"ev":"disconnected"}                           the "disconnect" command was done
//   {"ev":"sent","clientSeq":1,"clientMsgNo":"..."} chatManager.send() resolved (the "send" command)
//   {"ev":"send_error","msg":"..."}                 chatManager.send() rejected
//   {"ev":"sendack","clientSeq":1,"messageID":"...","messageSeq":1,"reason":1}
//                                                   the SDK's message-status listener (SENDACK)
//   {"ev":"message","send":false,"fromUID":"a","channelID":"a","channelType":1,"text":"hi",
//    "contentType":1,"messageSeq":1,"messageID":"...","clientMsgNo":"...","clientSeq":0,
//    "streamNo":"","streamFlag":0,"streamSeq":0}  (the stream fields of a stream RECV)
//                                                   the SDK's message listener (send: true for
//                                                   the SDK's local echo of its own send)
//   {"ev":"cmd","cmd":"channelUpdate","param":{...},"fromUID":"","channelID":"g","channelType":2,
//    "messageSeq":3,"messageID":"..."}              the SDK's CMD listener (payload type 99)
//   {"ev":"error","msg":"..."}                     uncaught exception (then exit 70)
//   {"ev":"bye"}                                    just before a normal exit
// It connects at once unless --no-connect.  --on-kick=disconnect makes it
// call disconnect() on ConnectKick, as an application would.
// Commands, one per line on stdin: "connect", "state", "disconnect", "exit",
// "send <channel_id> <channel_type> <text>" (a text message; the text is the
// rest of the line, UTF-8).
// End of stdin (the test process went away) exits too, so no client outlives
// its test.  The SDK's own console output (Chinese, very chatty) is dropped,
// or sent to stderr with --verbose.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { commands, out } from './driver_io.mjs';


const opts = { 'device-flag': '1', heartbeat: '500', 'on-kick': 'none' };
for (const a of process.argv.slice(2)) {
	const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(a);
	if (!m) {
		process.stderr.write(`sdk_client: bad argument ${a}\n`);
		process.exit(2);
	}
	opts[m[1]] = m[2] === undefined ? '1' : m[2];
}
for (const k of ['addr', 'uid']) {
	if (!opts[k]) {
		process.stderr.write(`sdk_client: --${k} is required\n`);
		process.exit(2);
	}
}

// Silence the SDK (it logs through console.*); our lines go to process.stdout.
const quiet = () => {};
const toErr = (...a) => process.stderr.write(a.map((x) => (typeof x === 'string' ? x : safe(x))).join(' ') + '\n');
function safe(x) {
	try {
		return x instanceof Error ? x.stack : JSON.stringify(x);
	} catch {
		return String(x);
	}
}
for (const k of ['log', 'info', 'debug', 'warn', 'error', 'trace'])
	console[k] = opts.verbose ? toErr : quiet;

process.on('uncaughtException', (e) => {
	out('error', { msg: String(e && e.stack ? e.stack : e) });
	process.exit(70);
});
process.on('unhandledRejection', (e) => {
	out('error', { msg: 'unhandled rejection: ' + String(e && e.stack ? e.stack : e) });
	process.exit(70);
});

const here = dirname(fileURLToPath(import.meta.url));
const modules = opts.modules || join(here, 'node_modules');
const req = createRequire(join(modules, 'noop.js'));
const version = (name) => JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')).version;

// A global WebSocket from `ws`, wrapped to report every socket, packet and
// close to the test without changing what the SDK sees.
const WS = (await import(pathToFileURL(req.resolve('ws')).href)).default;
const hex = (u8) => Buffer.from(u8.subarray(0, 64)).toString('hex');
const bytes = (d) => (d instanceof ArrayBuffer ? new Uint8Array(d) : ArrayBuffer.isView(d) ?
    new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(Buffer.from(d)));
// Packets in one WS message: the server must send exactly one per message
// (SDK 1.0.4 mishandles coalesced ones).  PING/PONG are one byte; every
// other packet is a header byte, a varint remaining length and the body.
function countPackets(u8) {
	let i = 0, n = 0;
	while (i < u8.length) {
		const type = u8[i++] >> 4;
		n++;
		if (type === 7 || type === 8)
			continue;
		let len = 0, mul = 1, b;
		do {
			if (i >= u8.length)
				return -1;
			b = u8[i++];
			len += (b & 127) * mul;
			mul *= 128;
		} while (b & 128);
		i += len;
	}
	return i === u8.length ? n : -1;
}
let wsCount = 0;
class TracedWebSocket extends WS {
	constructor(addr, ...rest) {
		super(addr, ...rest);
		const n = ++wsCount;
		this._n = n;
		out('ws_new', { n, addr: String(addr) });
		this.addEventListener('open', () => out('ws_open', { n }));
		this.addEventListener('close', (e) => out('ws_close', { n, code: e.code, reason: String(e.reason || '') }));
		this.addEventListener('error', (e) => out('ws_error', { n, msg: String(e && e.message) }));
		this.addEventListener('message', (e) => {
			const u8 = bytes(e.data);
			out('rx', { n, type: u8[0] >> 4, len: u8.length, packets: countPackets(u8), hex: hex(u8) });
		});
	}
	send(data, ...rest) {
		const u8 = bytes(data);
		out('tx', { n: this._n, type: u8[0] >> 4, len: u8.length, hex: hex(u8), state: this.readyState });
		return super.send(data, ...rest);
	}
}
globalThis.WebSocket = TracedWebSocket;

const WKSDK = (await import(pathToFileURL(req.resolve('wukongimjssdk')).href)).default;
const sdk = WKSDK.shared();
const cm = sdk.connectManager;
sdk.config.addr = opts.addr;
sdk.config.uid = opts.uid;
sdk.config.token = opts.token || '';
sdk.config.deviceFlag = Number(opts['device-flag']);
sdk.config.heartbeatInterval = Number(opts.heartbeat);
out('loaded', { node: process.version, sdk: version('wukongimjssdk'), ws: version('ws') });

cm.addConnectStatusListener((status, reason) => {
	out('status', { status, reason });
	// What an application does on ConnectKick: stop.  Without it SDK 1.0.4
	// keeps its heartbeat timer running after the kick and, four missed
	// PONGs later, calls connect() again.
	if (status === 4 && opts['on-kick'] === 'disconnect') {
		cm.disconnect();
		out('app_disconnect', { why: 'kick' });
	}
});

// Big numbers (messageID) as plain decimal strings.
const idStr = (v) => (v === undefined || v === null ? '' :
    typeof v === 'object' && typeof v.toFixed === 'function' ? v.toFixed() : String(v));
sdk.chatManager.addMessageListener((m) => {
	out('message', { send: !!m.send, fromUID: m.fromUID ?? '', channelID: m.channel ? m.channel.channelID : '',
	    channelType: m.channel ? m.channel.channelType : 0, text: m.content ? m.content.text ?? '' : '',
	    contentType: m.contentType ?? (m.content ? m.content.contentType : 0), messageSeq: m.messageSeq ?? 0,
	    messageID: idStr(m.messageID), clientMsgNo: m.clientMsgNo ?? '', clientSeq: m.clientSeq ?? 0,
	    streamNo: m.streamNo ?? '', streamFlag: m.streamFlag ?? 0, streamSeq: m.streamSeq ?? 0 });
});
// cmd messages (payload type 99) go to the CMD listeners instead.
sdk.chatManager.addCMDListener((m) => {
	const c = m.content || {};
	out('cmd', { cmd: c.cmd ?? '', param: c.param ?? null, fromUID: m.fromUID ?? '',
	    channelID: m.channel ? m.channel.channelID : '', channelType: m.channel ? m.channel.channelType : 0,
	    messageSeq: m.messageSeq ?? 0, messageID: idStr(m.messageID) });
});
sdk.chatManager.addMessageStatusListener((ack) => {
	out('sendack', { clientSeq: ack.clientSeq, messageID: idStr(ack.messageID), messageSeq: ack.messageSeq,
	    reason: ack.reasonCode });
});

function send(channelID, channelType, text) {
	sdk.chatManager.send(sdk.newMessageText(text), sdk.newChannel(channelID, channelType)).then(
	    (m) => out('sent', { clientSeq: m.clientSeq, clientMsgNo: m.clientMsgNo }),
	    (e) => out('send_error', { msg: String(e && e.message ? e.message : e) }));
}

function state() {
	out('state', { connected: cm.connected(), status: cm.status, needReconnect: cm.needReconnect,
	    pingRetryCount: cm.pingRetryCount, sockets: wsCount });
}

function bye(code) {
	try {
		cm.disconnect();
	} catch {
		// nothing to close
	}
	out('bye');
	process.exit(code);
}

commands((cmd) => {
	if (cmd === 'connect')
		cm.connect();
	else if (cmd.startsWith('send ')) {
		const m = /^send (\S+) (\d+) (.*)$/s.exec(cmd);
		if (m)
			send(m[1], Number(m[2]), m[3]);
		else
			out('error', { msg: `bad send command ${cmd}` });
	} else if (cmd === 'state')
		state();
	else if (cmd === 'disconnect') {
		cm.disconnect();
		out('disconnected');
	} else if (cmd === 'exit')
		bye(0);
	else if (cmd !== '')
		out('error', { msg: `unknown command ${cmd}` });
}, () => bye(0));

if (!opts['no-connect'])
	cm.connect();
