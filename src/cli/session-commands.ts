/**
 * `tether session delete`: a whole session, through any node.
 * @module
 */
import { assertSessionId } from '../variables/names.js';
import { defineCommand, type CommandSpec } from './command.js';
import { CLIENT_OPTIONS, withSession } from './connection.js';

const remove = defineCommand({
  path: ['session', 'delete'],
  summary: 'delete a session for good: its variables with their history, its modules',
  details: [
    'Every node ends its processes of the session; its variables (every version) and module specs are removed.',
    'Requests on it then get session_not_found; opening the id again starts an empty session.',
    'A session that does not exist is session_not_found (exit 1), and nothing changes.',
  ],
  args: [{ name: 'id', description: 'the session id' }],
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

/** The `session` command group. */
export const SESSION_COMMANDS: readonly CommandSpec[] = [remove];
