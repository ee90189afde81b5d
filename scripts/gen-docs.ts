// Writes the generated parts of the docs: `npm run docs`.
import * as fs from 'fs';
import * as path from 'path';
import { renderConfigDoc } from '../config/config-docs';
import { renderAclCategories, renderCommandReference } from '../protocol/command-docs';

const root = path.resolve(__dirname, '../..');
export const BEGIN = '<!-- BEGIN COMMAND TABLE (generated from protocol/command-specs.ts by `npm run docs`) -->';
export const END = '<!-- END COMMAND TABLE -->';

export function spliceCommandTable(doc: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error('docs/protocol.md lacks the command table markers');
  return doc.slice(0, a + BEGIN.length) + '\n\n' + renderCommandReference() + '\n' + doc.slice(b);
}

export const ACL_BEGIN = '<!-- BEGIN ACL CATEGORIES (generated from protocol/command-specs.ts by `npm run docs`) -->';
export const ACL_END = '<!-- END ACL CATEGORIES -->';

export function spliceAclCategories(doc: string): string {
  const a = doc.indexOf(ACL_BEGIN);
  const b = doc.indexOf(ACL_END);
  if (a < 0 || b < a) throw new Error('docs/acl.md lacks the category table markers');
  return doc.slice(0, a + ACL_BEGIN.length) + '\n\n' + renderAclCategories() + '\n' + doc.slice(b);
}

if (require.main === module) {
  fs.writeFileSync(path.join(root, 'docs/config.md'), renderConfigDoc());
  const p = path.join(root, 'docs/protocol.md');
  fs.writeFileSync(p, spliceCommandTable(fs.readFileSync(p, 'utf8')));
  const acl = path.join(root, 'docs/acl.md');
  fs.writeFileSync(acl, spliceAclCategories(fs.readFileSync(acl, 'utf8')));
  console.log('docs/config.md, the command table of docs/protocol.md and the categories of docs/acl.md are current');
}
