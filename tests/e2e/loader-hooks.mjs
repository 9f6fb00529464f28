// loader-hooks.mjs - ESM loader hooks that make wukongimjssdk@1.0.4 loadable
// in Node.  Its lib/*.js are ES modules compiled by tsc, but its package.json
// has no "type":"module", its relative imports have no extension
// ("./const") and two files import a directory ("."), none of which Node's
// ESM resolver accepts.  See /work/shared/docs/jssdk.md section 1.
//
// The resolve/load signatures (specifier, context, nextResolve) and
// (url, context, nextLoad) are the same in Node 18 (via
// --experimental-loader) and Node 20.6+ (via module.register(), see
// register.mjs); sdk_driver.c picks the flag by Node version.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SDK_LIB = '/node_modules/wukongimjssdk/lib/';

function inSdk(url) {
	return typeof url === 'string' && url.startsWith('file:') && url.includes(SDK_LIB);
}

function isFile(url) {
	try {
		return statSync(fileURLToPath(url)).isFile();
	} catch {
		return false;
	}
}

export async function resolve(specifier, context, nextResolve) {
	if (inSdk(context.parentURL) && /^\.\.?(\/|$)/.test(specifier) && !specifier.endsWith('.js')) {
		const cands = specifier === '.' || specifier === '..' ? [specifier + '/index.js'] :
		    [specifier + '.js', specifier + '/index.js'];
		for (const cand of cands) {
			const url = new URL(cand, context.parentURL).href;
			if (isFile(url))
				return { url, format: 'module', shortCircuit: true };
		}
	}
	return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
	if (inSdk(url) && url.endsWith('.js') && existsSync(fileURLToPath(url)))
		return nextLoad(url, { ...context, format: 'module' });
	return nextLoad(url, context);
}
