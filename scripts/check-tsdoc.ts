/**
 * Lists the public exports of sharpen-kd (everything its entries export: `src/index.ts` and `src/entries/*.ts`, the
 * typedoc entry points) whose TSDoc lacks an `@example`, and exits 1 when there are any. Run:
 * `npx tsx scripts/check-tsdoc.ts` (CI runs it in scripts/ci-extra.sh).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '..');
const entries = (JSON.parse(fs.readFileSync(path.join(root, 'typedoc.json'), 'utf8')) as { entryPoints: string[] }).entryPoints.map((e) => path.join(root, e));

const configFile = ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile);
const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
const program = ts.createProgram(entries, { ...parsed.options, noEmit: true });
const checker = program.getTypeChecker();

/** True when one of the declarations carries an `@example` tag (overloads: any signature). */
function hasExample(decls: readonly ts.Declaration[]): boolean {
  return decls.some((d) => ts.getJSDocTags(d).some((t) => t.tagName.text === 'example'));
}

const missing: string[] = [];
const seen = new Set<ts.Symbol>();
for (const entry of entries) {
  const source = program.getSourceFile(entry);
  if (!source) throw new Error(`cannot read ${entry}`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`${entry} is not a module`);
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (seen.has(symbol)) continue; // the root re-exports names of the subpath entries
    seen.add(symbol);
    const decls = symbol.getDeclarations() ?? [];
    if (hasExample(decls)) continue;
    const d = decls[0];
    const where = d ? `${path.relative(root, d.getSourceFile().fileName)}:${d.getSourceFile().getLineAndCharacterOfPosition(d.getStart()).line + 1}` : '?';
    missing.push(`${exported.name.padEnd(32)} ${where}`);
  }
}
const count = seen.size;

if (missing.length > 0) {
  console.error(`${missing.length} of ${count} public exports have no @example in their TSDoc:\n  ${missing.join('\n  ')}`);
  process.exit(1);
}
console.log(`check-tsdoc: all ${count} public exports have an @example`);
