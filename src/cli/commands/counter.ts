// `opera counter add|get`: cluster counters through the gateway (docs/gateway.md
// "Counters"). An add is retried with the same client id and sequence until it gets a
// definite answer, so it never adds twice; --client-id and --seq resume an add whose
// outcome a previous run did not learn.
import { Option } from 'clipanion';
import { CounterClient } from '../../client/counters.js';
import { COUNTER_CLIENT_ID, COUNTER_NAME, MAX_COUNTER_DELTA } from '../../meta/counters.js';
import { OperaCommand, UsageError, intOption } from '../base.js';
import { GatewayClientCommand } from './objects.js';

function counterName(name: string): string {
  if (!COUNTER_NAME.test(name)) throw new UsageError('a counter name is 1-64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit');
  return name;
}

export class CounterAddCommand extends GatewayClientCommand {
  static override paths = [['counter', 'add']];
  static override usage = OperaCommand.Usage({
    description: 'Add to a cluster counter exactly once and print its new value',
    details: 'Each add is sent with a client id and a sequence number, and retried with the same pair after a timeout or a 503 until the gateway answers: meta applies a pair once. If the command gives up (exit 1, "no definite answer"), run it again with the --client-id and --seq it printed to learn the outcome without adding twice.',
    examples: [['The next catalogue number', 'opera counter add catalogue'], ['Reserve 100 numbers', 'opera counter add catalogue --delta 100']],
  });
  name = Option.String({ required: true });
  delta = Option.String('--delta', { description: 'How much to add (1 to 1000000, default 1)' });
  clientId = Option.String('--client-id', { description: 'Resume a session: the client id an earlier run printed (default: a new one)' });
  seq = Option.String('--seq', { description: 'With --client-id: the sequence of the add to resume' });
  timeout = Option.String('--timeout', { description: 'Seconds to keep retrying (default 60)' });

  async run(): Promise<number> {
    const name = counterName(this.name);
    const delta = intOption(this.delta, '--delta', 1, 1, MAX_COUNTER_DELTA);
    const timeoutS = intOption(this.timeout, '--timeout', 60, 1, 3600);
    if ((this.clientId === undefined) !== (this.seq === undefined)) throw new UsageError('--client-id and --seq go together');
    if (this.clientId !== undefined && !COUNTER_CLIENT_ID.test(this.clientId)) throw new UsageError('--client-id must be 1-64 characters from A-Z a-z 0-9 . _ : -');
    const seq = intOption(this.seq, '--seq', 1, 1);
    const client = new CounterClient(await this.access(), { ...(this.clientId !== undefined ? { clientId: this.clientId } : {}), deadlineMs: timeoutS * 1000 });
    try {
      const added = await client.addWithSeq(name, seq, delta);
      this.out(String(added.value), added);
      return 0;
    } catch (err) {
      throw new Error(`${(err as Error).message} (resume with --client-id ${client.clientId} --seq ${seq})`);
    }
  }
}

export class CounterGetCommand extends GatewayClientCommand {
  static override paths = [['counter', 'get']];
  static override usage = OperaCommand.Usage({ description: 'Print a cluster counter\'s value (0 if never added to), linearizable' });
  name = Option.String({ required: true });

  async run(): Promise<number> {
    const name = counterName(this.name);
    const value = await new CounterClient(await this.access()).get(name);
    this.out(String(value), { name, value });
    return 0;
  }
}

export const counterCommands = [CounterAddCommand, CounterGetCommand];
