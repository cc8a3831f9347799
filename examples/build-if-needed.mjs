// Builds the library (`npm run build`) when dist/ is missing or older than src/: the examples import
// 'sharpen-kd', which resolves to dist/ through the package's exports map, like in a user's project.
import { execSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const mtime = (p) => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
};
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((t, e) => Math.max(t, e.isDirectory() ? newest(join(dir, e.name)) : mtime(join(dir, e.name))), 0);

const built = mtime(join(root, 'dist/index.js'));
if (built === 0 || built < newest(join(root, 'src'))) {
  console.log(built === 0 ? 'dist/ is missing: building sharpen-kd first' : 'src/ changed since the last build: rebuilding sharpen-kd first');
  execSync('npm run build --silent', { cwd: root, stdio: 'inherit' });
}
