const kd = require('sharpen-kd');
if (typeof kd.useBackend !== 'function' || typeof kd.SharpenError !== 'function') throw new Error('CJS require is missing exports');
kd.useBackend('wasm').then(() => console.log(`CJS require OK (${Object.keys(kd).length} exports)`));
