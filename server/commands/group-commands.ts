import { checkGroupKey, checkQueueName } from '../rules/names';
import { groupOverrideFromWords } from '../rules/flow-settings';
import { GROUP_LIST_DEFAULT_COUNT, GROUP_LIST_MAX_COUNT, groupListEntry, groupStatsFields } from '../rules/group-fields';
import { OptionReader } from '../rules/args';
import { Handler, HandlerGroup } from './handler';
import { writeFieldMap } from './reply-shapes';

/** GROUP CONFIG queue key [CONCURRENCY n] [RATE n [PER ms]] [MAXLEN n]: patched onto the group's current override */
const groupConfig: Handler = (ctx, c, args) => {
  const queue = checkQueueName(args[2]);
  const key = checkGroupKey(args[3]);
  const override = groupOverrideFromWords(args, 4, ctx.engine.groupLimits(queue, key).override);
  ctx.engine.configureGroup(queue, key, override);
  c.writer.simple('OK');
};

const groupReset: Handler = (ctx, c, args) => {
  c.writer.int(ctx.engine.resetGroup(checkQueueName(args[2]), checkGroupKey(args[3])));
};

const groupStats: Handler = (ctx, c, args) => {
  writeFieldMap(c.writer, groupStatsFields(ctx.engine, args[2], args[3]));
};

const groupList: Handler = (ctx, c, args) => {
  const r = new OptionReader(args, 3);
  let count = GROUP_LIST_DEFAULT_COUNT;
  while (!r.done) {
    const word = r.keyword();
    if (word === 'COUNT') count = r.int(word, 1, GROUP_LIST_MAX_COUNT);
    else r.unknown(word);
  }
  const groups = ctx.engine.largestGroups(args[2], count);
  c.writer.arrayHeader(groups.length);
  for (const g of groups) {
    c.writer.arrayHeader(5);
    c.writer.bulk(g.key);
    for (const n of groupListEntry(g)) c.writer.int(n);
  }
};

export const GROUP_HANDLERS = {
  'group|config': groupConfig,
  'group|reset': groupReset,
  'group|stats': groupStats,
  'group|list': groupList,
} satisfies HandlerGroup;
