// register.mjs - `node --import ./register.mjs`: registers loader-hooks.mjs
// with module.register() (Node 20.6+ and 18.19+).  Older Node 18 uses
// `node --experimental-loader ./loader-hooks.mjs` instead (same hooks).
import { register } from 'node:module';

register('./loader-hooks.mjs', import.meta.url);
