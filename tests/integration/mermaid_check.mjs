// Parse a Mermaid file with Mermaid's own parser: exit 0 and print the
// diagram type, or exit 1 with Mermaid's error. The Makefile copies this
// next to the mermaid package it installs from npm.
import mermaid from 'mermaid';
import { readFileSync } from 'fs';

const text = readFileSync(process.argv[2], 'utf8');
try {
  const r = await mermaid.parse(text);
  console.log(r.diagramType);
} catch (e) {
  console.log('error: ' + (e.message || e));
  process.exit(1);
}
