/**
 * `tether session list|delete`: the sessions that exist, and a whole session, through any node.
 * @module
 */
import { PayloadTooLargeError } from '../errors.js';
import { DEFAULT_SESSION_PAGE, type SessionPage } from '../nats/session-page.js';
import type { TetherClient } from '../nats/remote-client.js';
import { assertSessionId } from '../variables/names.js';
import { defineCommand, type CommandSpec } from './command.js';
import { CLIENT_OPTIONS, openClient, quiet, withSession } from './connection.js';

const remove = defineCommand({
  path: ['session', 'delete'],
  summary: 'delete a session for good: its variables with their history, its modules',
  details: [
    'Every node ends its processes of the session; its variables (every version) and module specs are removed.',
    'Requests on it then get session_not_found; opening the id again starts an empty session.',
    'A session that does not exist is session_not_found (exit 1), and nothing changes.',
  ],
  args: [{ name: 'id', description: 'the session id', mayStartWithDash: true }],
  options: { ...CLIENT_OPTIONS },
  examples: ['tether session delete chat-1'],
  async run({ values, args }, io) {
    const id = String(args.id);
    // Before connecting: a bad id is the user's mistake whether or not NATS can be reached.
    assertSessionId(id);
    await withSession({ ...values, session: id }, io, this.path, {}, (session) => session.delete());
    io.out(`session ${id} deleted`);
  },
});

const list = defineCommand({
  path: ['session', 'list'],
  summary: 'list the sessions that exist, one id per line',
  details: [
    'Prints the id of every session that exists on the nodes (opened through any of them, not deleted, not expired),',
    'one per line, in code-point order. The nodes answer a page at a time; every page is asked for in turn, so the',
    'list is every session, however many. Sessions opened or deleted meanwhile may or may not be in it; no id is',
    "printed twice. A page too large for the server's max_payload is asked for again with half as many ids.",
  ],
  args: [],
  options: { ...CLIENT_OPTIONS },
  examples: ['tether session list', 'tether session list | wc -l'],
  async run({ values }, io) {
    const client = await openClient(values, io, this.path, quiet);
    // Nobody reads any more (`| head -1`): the pages left are not asked for.
    let unread = false;
    void io.outputClosed?.then(() => (unread = true));
    try {
      let after: string | undefined;
      let limit = DEFAULT_SESSION_PAGE;
      do {
        const page = await pageThatFits(client, after, limit);
        limit = page.limit;
        for (const id of page.ids) io.out(id);
        after = page.next;
      } while (after !== undefined && !unread);
    } finally {
      await client.close();
    }
  },
});

/**
 * The page after `after` of at most `limit` ids, or of fewer: a reply over the server's `max_payload` (a small limit,
 * long ids) is asked for again with half as many, down to one id. Returns the limit that fit, for the next pages.
 */
async function pageThatFits(
  client: TetherClient,
  after: string | undefined,
  limit: number,
): Promise<SessionPage & { limit: number }> {
  for (;;) {
    try {
      return { ...(await client.listSessions({ after, limit })), limit };
    } catch (error) {
      if (!(error instanceof PayloadTooLargeError) || limit === 1) throw error;
      limit = Math.ceil(limit / 2);
    }
  }
}

/** The `session` command group. */
export const SESSION_COMMANDS: readonly CommandSpec[] = [remove, list];
