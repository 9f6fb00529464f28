// peers.mjs - wkbench's scenario 1 (one-to-one, durable, closed loop) against
// a peer, for bench/peers.sh: PAIRS senders, each with DEPTH messages in
// flight, each to its own receiver; a message counts as acknowledged when
// the peer says it is stored (MQTT PUBACK at QoS 1; JetStream's publish
// ack) and as delivered when its receiver gets it.  Prints one line:
//   RESULT {"peer","acks_per_s","recv_per_s","ack_p50_us","ack_p99_us","ack_p999_us","lost"}
//
//   node peers.mjs mqtt|nats PORT PAIRS DEPTH SECONDS [BYTES]
import mqtt from 'mqtt';
import { connect, StringCodec, RetentionPolicy, StorageType } from 'nats';

const [peer, port, pairsS, depthS, secsS, bytesS] = process.argv.slice(2);
const pairs = Number(pairsS), depth = Number(depthS), secs = Number(secsS);
const payload = Buffer.alloc(Number(bytesS || 128), 'x');
const lat = [];
let acks = 0, recvs = 0, sent = 0, measuring = false, stop = false;

function now() { return Number(process.hrtime.bigint() / 1000n); }

// One sender's closed loop: DEPTH in flight, the next when one is acked.
async function loop(publish) {
	const one = async () => {
		while (!stop) {
			const t0 = now();
			sent++;
			await publish();
			if (measuring) {
				acks++;
				lat.push(now() - t0);
			}
		}
	};
	await Promise.all(Array.from({ length: depth }, one));
}

function pct(a, p) { return a.length ? a[Math.min(a.length - 1, Math.floor(a.length * p))] : 0; }

async function runMqtt() {
	const url = `mqtt://127.0.0.1:${port}`;
	const subs = [], pubs = [];
	for (let i = 0; i < pairs; i++) {
		const s = mqtt.connect(url, { clientId: `r${i}-${process.pid}`, clean: true, reconnectPeriod: 0 });
		await new Promise((ok, no) => { s.once('connect', ok); s.once('error', no); });
		await s.subscribeAsync(`p/${i}`, { qos: 1 });
		s.on('message', () => { if (measuring) recvs++; });
		subs.push(s);
		const p = mqtt.connect(url, { clientId: `s${i}-${process.pid}`, clean: true, reconnectPeriod: 0 });
		await new Promise((ok, no) => { p.once('connect', ok); p.once('error', no); });
		pubs.push(p);
	}
	return { loops: pubs.map((p, i) => () => p.publishAsync(`p/${i}`, payload, { qos: 1 })),
		close: async () => { for (const c of [...pubs, ...subs]) await c.endAsync(true); } };
}

async function runNats() {
	const nc = await connect({ servers: `127.0.0.1:${port}` });
	const jsm = await nc.jetstreamManager();
	await jsm.streams.add({ name: 'PEERS', subjects: ['p.>'], storage: StorageType.File,
		retention: RetentionPolicy.Limits });
	const subs = [], conns = [];
	for (let i = 0; i < pairs; i++) {
		const r = await connect({ servers: `127.0.0.1:${port}` });
		const sub = r.subscribe(`p.${i}`);
		(async () => { for await (const m of sub) if (measuring) recvs++; })();
		subs.push(r);
		conns.push(await connect({ servers: `127.0.0.1:${port}` }));
	}
	const js = conns.map((c) => c.jetstream());
	return { loops: js.map((j, i) => () => j.publish(`p.${i}`, payload)),
		close: async () => { for (const c of [...conns, ...subs, nc]) await c.close(); } };
}

const set = peer === 'mqtt' ? await runMqtt() : await runNats();
const running = set.loops.map((pub) => loop(pub));
await new Promise((r) => setTimeout(r, 2000));          // warm-up
measuring = true;
const t0 = now();
await new Promise((r) => setTimeout(r, secs * 1000));
measuring = false;
const el = (now() - t0) / 1e6;
stop = true;
await Promise.race([Promise.all(running), new Promise((r) => setTimeout(r, 5000))]);
lat.sort((a, b) => a - b);
console.log('RESULT ' + JSON.stringify({ peer, acks_per_s: Math.round(acks / el),
	recv_per_s: Math.round(recvs / el), ack_p50_us: pct(lat, 0.5), ack_p99_us: pct(lat, 0.99),
	ack_p999_us: pct(lat, 0.999), cpu_s: Math.round(process.cpuUsage().user / 1e4) / 100 }));
await set.close();
process.exit(0);
