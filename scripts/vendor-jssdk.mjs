// vendor-jssdk.mjs - copy the official JS SDK (npm wukongimjssdk 1.0.4)
// and its dependencies from a node_modules directory into
// brokers/api/demo/sdk/ as ES modules a browser loads as they are, for
// the demo chat page (wk-api(8), DEMO CHAT).  Run by hand when the SDK
// changes; the output is committed, so building wk needs no npm.
//
//   node scripts/vendor-jssdk.mjs <builddir>/tests/e2e/node_modules
//
// The SDK ships tsc's ES modules with extensionless relative imports and
// bare imports of CommonJS packages: the relative ones get ".js", the bare
// ones point at sdk/deps/, where each CommonJS package is wrapped in a
// small require() of its own (no bundler: Debian has none that fits and
// nothing is fetched).
import fs from 'node:fs';
import path from 'node:path';

const nm = process.argv[2];
if (!nm) {
	console.error('usage: node scripts/vendor-jssdk.mjs NODE_MODULES_DIR');
	process.exit(2);
}
const out = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'brokers/api/demo/sdk');
const read = (p) => fs.readFileSync(path.join(nm, p), 'utf8');
const pkg = (n) => JSON.parse(read(`${n}/package.json`));
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'deps'), { recursive: true });

// The SDK: imports rewritten.
const deps = { 'bignumber.js': 'bignumber', 'crypto-js': 'crypto-js', 'curve25519-js': 'curve25519',
	'md5-typescript': 'md5', 'buffer': 'buffer' };
const lib = path.join(nm, 'wukongimjssdk/lib');
for (const f of fs.readdirSync(lib).filter((f) => f.endsWith('.js')).sort()) {
	let s = fs.readFileSync(path.join(lib, f), 'utf8');
	s = s.replace(/^(import\b[^\n]*?\bfrom\s*|import\s*|export\b[^\n]*?\bfrom\s*)(["'])([^"']+)\2/gm, (all, kw, q, spec) => {
		if (spec === '.')
			return `${kw}${q}./index.js${q}`;
		if (spec.startsWith('./'))
			return `${kw}${q}${spec}.js${q}`;
		if (deps[spec])
			return `${kw}${q}./deps/${deps[spec]}.js${q}`;
		throw new Error(`${f}: unknown import ${spec}`);
	});
	fs.writeFileSync(path.join(out, f), s);
}

// A CommonJS package (and what it requires) as one ES module.
function wrap(mods, entry, tail) {
	let s = '// CommonJS modules wrapped by scripts/vendor-jssdk.mjs\nconst __defs = {\n';
	for (const [name, file] of Object.entries(mods))
		s += `${JSON.stringify(name)}: function (module, exports, require) {\n${read(file)}\n},\n`;
	s += '};\nconst __m = {};\nfunction __req(n) {\n\tif (!__defs[n]) throw new Error("no module " + n);\n' +
	    '\tif (!__m[n]) { __m[n] = { exports: {} }; __defs[n].call(__m[n].exports, __m[n], __m[n].exports, __req); }\n' +
	    '\treturn __m[n].exports;\n}\n' + `const __e = __req(${JSON.stringify(entry)});\n` + tail + '\n';
	return s;
}
fs.writeFileSync(path.join(out, 'deps/bignumber.js'), read('bignumber.js/bignumber.mjs'));
fs.writeFileSync(path.join(out, 'deps/crypto-js.js'),
    wrap({ 'crypto-js': 'crypto-js/crypto-js.js' }, 'crypto-js', 'export default __e;'));
fs.writeFileSync(path.join(out, 'deps/curve25519.js'),
    wrap({ c: 'curve25519-js/lib/index.js' }, 'c',
	'export default __e;\nexport const { generateKeyPair, sharedKey } = __e;'));
fs.writeFileSync(path.join(out, 'deps/md5.js'),
    wrap({ m: 'md5-typescript/dist/bundles/bundle.umd.js' }, 'm', 'export const { Md5 } = __e;'));
fs.writeFileSync(path.join(out, 'deps/buffer.js'),
    wrap({ buffer: 'buffer/index.js', 'base64-js': 'base64-js/index.js', ieee754: 'ieee754/index.js' },
	'buffer', 'export default __e;\nexport const { Buffer } = __e;'));

// Their licences, with the versions copied.
let lic = 'The JavaScript under this directory is copied, with its import lines\n' +
    'rewritten (scripts/vendor-jssdk.mjs), from these npm packages:\n\n';
for (const [n, f] of [['wukongimjssdk', null], ['bignumber.js', 'LICENCE.md'], ['crypto-js', 'LICENSE'],
    ['curve25519-js', 'LICENSE'], ['md5-typescript', 'LICENSE'], ['buffer', 'LICENSE'],
    ['base64-js', 'LICENSE'], ['ieee754', 'LICENSE']]) {
	const p = pkg(n);
	lic += `==== ${n} ${p.version} (${p.license})\n\n`;
	lic += f ? read(`${n}/${f}`).trim() + '\n\n' :
	    `The package declares the ${p.license} licence in its package.json and ships no licence\n` +
	    `text; its author: ${p.author}.  The ISC licence:\n\n` +
	    `Permission to use, copy, modify, and/or distribute this software for any purpose\n` +
	    `with or without fee is hereby granted, provided that the above copyright notice\n` +
	    `and this permission notice appear in all copies.\n\n` +
	    `THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH\n` +
	    `REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND\n` +
	    `FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT,\n` +
	    `INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS\n` +
	    `OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER\n` +
	    `TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF\n` +
	    `THIS SOFTWARE.\n\n`;
}
fs.writeFileSync(path.join(out, 'LICENSES.txt'), lic);
console.log(fs.readdirSync(out, { recursive: true }).filter((f) => /\.(js|txt)$/.test(f)).sort()
    .map((f) => 'brokers/api/demo/sdk/' + f).join(' \\\n\t'));
