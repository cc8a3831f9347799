import * as kd from 'sharpen-kd';
import { useBackend, SharpenError } from 'sharpen-kd';
if (typeof useBackend !== 'function' || typeof SharpenError !== 'function') throw new Error('ESM import is missing exports');
await useBackend('wasm');
console.log(`ESM import OK (${Object.keys(kd).length} exports)`);
