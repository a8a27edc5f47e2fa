import { readFileSync } from 'node:fs';
import { topProfileFunctions, topProfileModules } from './profile.js';
const p = JSON.parse(readFileSync(process.argv[2]!, 'utf8'));
for (const f of topProfileFunctions(p, 15).functions) console.log(f.selfMs.toFixed(0), f.percent.toFixed(1), f.name, f.where);
console.log(topProfileModules(p, 8));
