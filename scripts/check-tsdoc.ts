/**
 * Lists the public exports of sharpen-kd (everything `src/index.ts` exports) whose TSDoc lacks an `@example`,
 * and exits 1 when there are any. Run: `npx tsx scripts/check-tsdoc.ts` (CI runs it in scripts/ci-extra.sh).
 */
import * as path from 'node:path';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '..');
const entry = path.join(root, 'src/index.ts');

const configFile = ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile);
const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
const program = ts.createProgram([entry], { ...parsed.options, noEmit: true });
const checker = program.getTypeChecker();
const source = program.getSourceFile(entry);
if (!source) throw new Error(`cannot read ${entry}`);
const moduleSymbol = checker.getSymbolAtLocation(source);
if (!moduleSymbol) throw new Error(`${entry} is not a module`);

/** True when one of the declarations carries an `@example` tag (overloads: any signature). */
function hasExample(decls: readonly ts.Declaration[]): boolean {
  return decls.some((d) => ts.getJSDocTags(d).some((t) => t.tagName.text === 'example'));
}

const missing: string[] = [];
let count = 0;
for (const exported of checker.getExportsOfModule(moduleSymbol)) {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const decls = symbol.getDeclarations() ?? [];
  count++;
  if (hasExample(decls)) continue;
  const d = decls[0];
  const where = d ? `${path.relative(root, d.getSourceFile().fileName)}:${d.getSourceFile().getLineAndCharacterOfPosition(d.getStart()).line + 1}` : '?';
  missing.push(`${exported.name.padEnd(32)} ${where}`);
}

if (missing.length > 0) {
  console.error(`${missing.length} of ${count} public exports have no @example in their TSDoc:\n  ${missing.join('\n  ')}`);
  process.exit(1);
}
console.log(`check-tsdoc: all ${count} public exports have an @example`);
