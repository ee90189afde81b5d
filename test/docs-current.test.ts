import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { renderConfigDoc } from '../config/config-docs';
import { spliceAclCategories, spliceCommandTable } from '../scripts/gen-docs';
import { COMMAND_SPECS } from '../protocol/command-specs';
import { HANDLERS } from '../server/commands/dispatcher';

const root = path.resolve(__dirname, '../..');

describe('generated docs and the command table', () => {
  it('docs/config.md matches config/schema.ts (run `npm run docs` after changing settings)', () => {
    expect(fs.readFileSync(path.join(root, 'docs/config.md'), 'utf8')).to.equal(renderConfigDoc());
  });

  it('the command table in docs/protocol.md matches protocol/command-specs.ts', () => {
    const doc = fs.readFileSync(path.join(root, 'docs/protocol.md'), 'utf8');
    expect(doc).to.equal(spliceCommandTable(doc));
  });

  it('the ACL category table in docs/acl.md matches the command specs', () => {
    const doc = fs.readFileSync(path.join(root, 'docs/acl.md'), 'utf8');
    expect(doc).to.equal(spliceAclCategories(doc));
  });

  it('every command spec has a handler, and every handler a spec', () => {
    const specNames = COMMAND_SPECS.flatMap((s) => (s.subcommands ? s.subcommands.map((c) => c.name) : [s.name]));
    expect(Object.keys(HANDLERS).sort()).to.deep.equal(specNames.sort());
  });
});
