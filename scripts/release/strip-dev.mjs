// Cuts a `turbo prune` tree down to what runs in production: the workspaces the service needs at run
// time (its dependencies, not devDependencies, followed through the @offsite/* packages), no
// devDependencies anywhere, and the lock file's dev-only entries removed, so that a plain `npm ci` in
// the tree installs exactly the production set and nothing else.
// Usage: node strip-dev.mjs TREE WORKSPACE_DIR   (e.g. services/influx-writer)
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
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
writeJson('package.json', rootPkg);
lock.packages[''].workspaces = rootPkg.workspaces;
delete lock.packages[''].devDependencies;
for (const [key, entry] of Object.entries(lock.packages)) if (entry.dev === true) delete lock.packages[key];
writeJson('package-lock.json', lock);
