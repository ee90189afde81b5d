// Writes the generated parts of the docs: `npm run docs`.
import * as fs from 'fs';
import * as path from 'path';
import { renderConfigDoc } from '../config/config-docs';
import { renderCommandReference } from '../protocol/command-docs';

const root = path.resolve(__dirname, '../..');
export const BEGIN = '<!-- BEGIN COMMAND TABLE (generated from protocol/command-specs.ts by `npm run docs`) -->';
export const END = '<!-- END COMMAND TABLE -->';

export function spliceCommandTable(doc: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error('docs/protocol.md lacks the command table markers');
  return doc.slice(0, a + BEGIN.length) + '\n\n' + renderCommandReference() + '\n' + doc.slice(b);
}

if (require.main === module) {
  fs.writeFileSync(path.join(root, 'docs/config.md'), renderConfigDoc());
  const p = path.join(root, 'docs/protocol.md');
  fs.writeFileSync(p, spliceCommandTable(fs.readFileSync(p, 'utf8')));
  console.log('docs/config.md and the command table of docs/protocol.md are current');
}
