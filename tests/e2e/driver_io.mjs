// driver_io.mjs - what the Node scripts driven by sdk_driver.c share: JSON
// lines out, one command per stdin line in.
const t0 = Date.now();

// One JSON object per line on stdout, with "ev" and "t" (ms since start).
export const out = (ev, obj = {}) =>
	process.stdout.write(JSON.stringify({ ev, t: Date.now() - t0, ...obj }) + '\n');

// Call onCommand with each trimmed stdin line, onEnd at end of input (the
// test process went away: no client outlives its test).
export function commands(onCommand, onEnd) {
	let pending = '';
	process.stdin.setEncoding('utf8');
	process.stdin.on('data', (chunk) => {
		pending += chunk;
		let i;
		while ((i = pending.indexOf('\n')) >= 0) {
			const cmd = pending.slice(0, i).trim();
			pending = pending.slice(i + 1);
			onCommand(cmd);
		}
	});
	process.stdin.on('end', onEnd);
}

// --name=value options over defaults (a bare --name is "1").
export function options(defaults) {
	const opts = { ...defaults };
	for (const a of process.argv.slice(2)) {
		const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(a);
		if (m)
			opts[m[1]] = m[2] === undefined ? '1' : m[2];
	}
	return opts;
}

// Report e as an "error" line and exit 70: the driver fails the test.
export function fail(e) {
	out('error', { msg: String(e && e.stack ? e.stack : e) });
	process.exit(70);
}

// Uncaught exceptions and rejections fail the same way.
export function failOnUncaught() {
	process.on('uncaughtException', fail);
	process.on('unhandledRejection', fail);
}
