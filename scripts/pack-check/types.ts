import { useBackend, type BackendName, SharpenError } from 'sharpen-kd';
const name: BackendName = 'wasm';
const p: Promise<string> = useBackend(name);
const e: SharpenError = new SharpenError('E_INPUT', 'x');
void p;
void e;
