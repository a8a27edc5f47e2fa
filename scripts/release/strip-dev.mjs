// Cuts a `turbo prune` tree down to what runs in production: the workspaces the service needs at run
// time (its dependencies, not devDependencies, followed through the @offsite/* packages), no
// devDependencies anywhere, and the lock file's dev-only entries removed, so that a plain `npm ci` in
// the tree installs exactly the production set and nothing else.
// The archive's package.json accepts only the supported production Node versions, and its .npmrc makes
// npm refuse any other (the repository itself also accepts Node 20, its development machine's).
// Usage: node strip-dev.mjs TREE WORKSPACE_DIR   (e.g. services/influx-writer)
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

/** Node versions a production install supports: the two LTS lines, 24 the target. */
const PRODUCTION_NODE = '^22.12.0 || ^24.0.0';
import { join } from 'node:path';

const [tree, target] = process.argv.slice(2);
if (!tree || !target) {
  process.stderr.write('usage: strip-dev.mjs TREE WORKSPACE_DIR\n');
  process.exit(2);
}
const readJson = (file) => JSON.parse(readFileSync(join(tree, file), 'utf8'));
const writeJson = (file, value) => writeFileSync(join(tree, file), `${JSON.stringify(value, null, 2)}\n`);

const rootPkg = readJson('package.json');
const lock = readJson('package-lock.json');
const dirOf = new Map(); // package name -> workspace dir
for (const dir of rootPkg.workspaces) dirOf.set(readJson(`${dir}/package.json`).name, dir);

const keep = new Set();
const visit = (dir) => {
  if (keep.has(dir)) return;
  keep.add(dir);
  for (const dep of Object.keys(readJson(`${dir}/package.json`).dependencies ?? {})) {
    const depDir = dirOf.get(dep);
    if (depDir) visit(depDir);
  }
};
visit(target);

for (const [name, dir] of dirOf) {
  if (keep.has(dir)) {
    const pkg = readJson(`${dir}/package.json`);
    delete pkg.devDependencies;
    writeJson(`${dir}/package.json`, pkg);
    delete lock.packages[dir]?.devDependencies;
  } else {
    rmSync(join(tree, dir), { recursive: true, force: true });
    delete lock.packages[dir];
    delete lock.packages[`node_modules/${name}`];
  }
}
rootPkg.workspaces = rootPkg.workspaces.filter((dir) => keep.has(dir));
delete rootPkg.devDependencies;
rootPkg.scripts = {};
rootPkg.engines = { node: PRODUCTION_NODE };
writeFileSync(join(tree, '.npmrc'), 'engine-strict=true\n');
writeJson('package.json', rootPkg);
lock.packages[''].workspaces = rootPkg.workspaces;
lock.packages[''].engines = rootPkg.engines;
delete lock.packages[''].devDependencies;
for (const [key, entry] of Object.entries(lock.packages)) if (entry.dev === true) delete lock.packages[key];
writeJson('package-lock.json', lock);
