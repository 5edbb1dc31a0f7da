/**
 * The commands a transcript can run against a Harness, each returning the text it prints.
 * Messages are queued, never delivered until a `deliver` or `stabilize` says so, so a
 * transcript controls exactly which messages arrive, are dropped, or arrive late.
 */
import { describeEnvelope, describeStatus, describeValue, nodeId, revision, type NodeId } from '../../src/core/index.js'
import type { Envelope } from '../../src/core/index.js'
import { describeCommand, type WriteCommand } from '../../src/kv/command.js'
import { Harness } from '../core/harness.js'

type Args = ReadonlyMap<string, string>

export class InteractionEnv {
  #harness: Harness | null = null
  #proposals = 0

  run(command: string, positional: readonly string[], args: Args): string {
    switch (command) {
      case 'cluster':
        this.#harness = new Harness(Number(positional[0]), Number(args.get('seed') ?? 1))
        return 'ok'
      case 'campaign':
        return this.#printingNew(() => this.#h.replica(this.#node(positional[0])).campaign())
      case 'propose':
        return this.#propose(positional)
      case 'read':
        return this.#printingNew(() => `${JSON.stringify(this.#h.replica(this.#node(positional[0])).read(Number(args.get('id'))))}`)
      case 'deliver':
        return this.#deliver(args, false)
      case 'drop':
        return this.#deliver(args, true)
      case 'stabilize':
        return this.#stabilize()
      case 'tick':
        return this.#printingNew(() => {
          for (let tick = 0; tick < Number(args.get('n') ?? 1); tick += 1) this.#h.replica(this.#node(positional[0])).tick()
        })
      case 'crash':
        this.#h.crash(this.#node(positional[0]))
        return 'ok'
      case 'restart':
        this.#h.start(this.#node(positional[0]))
        return 'ok'
      case 'status':
        return this.#h.ids.filter((id) => !this.#h.down.has(id)).map((id) => describeStatus(this.#h.replica(id).status())).join('\n')
      case 'applied':
        return (this.#h.applied.get(this.#node(positional[0])) ?? []).map((entry) => `${entry.slot} ${describeValue(entry.value, describeCommand)}`).join('\n') || '(none)'
      case 'reads':
        return JSON.stringify(this.#h.reads.get(this.#node(positional[0])) ?? [])
      default:
        throw new Error(`unknown transcript command ${command}`)
    }
  }

  get #h(): Harness {
    if (this.#harness === null) throw new Error('run `cluster N` first')
    return this.#harness
  }

  #node(text: string | undefined): NodeId {
    return nodeId(Number(text))
  }

  /** Runs `work`, drains every Ready, and prints the result line (if any) and new messages. */
  #printingNew(work: () => string | void): string {
    const before = this.#h.queue.length
    const result = work()
    this.#h.process()
    const lines = this.#h.queue.slice(before).map((envelope) => describeEnvelope(envelope, describeCommand))
    return [...(typeof result === 'string' ? [result] : []), ...lines].join('\n') || '(no messages)'
  }

  #propose(positional: readonly string[]): string {
    const [id, type, key, cas] = positional
    this.#proposals += 1
    const base = { proposal: `p${this.#proposals}`, key: key ?? 'k', cas: cas === undefined ? null : revision(Number(cas)), idempotency: null }
    const command: WriteCommand = type === 'del' ? { type: 'delete', ...base } : { type: 'put', value: '', ...base }
    return this.#printingNew(() => JSON.stringify(this.#h.replica(this.#node(id)).propose(command)))
  }

  /** Delivers (or drops) the queued messages that match from=/to=/type= filters; the rest stay queued. */
  #deliver(args: Args, drop: boolean): string {
    const matches = (envelope: Envelope<WriteCommand>): boolean =>
      (!args.has('from') || args.get('from')!.split(',').includes(String(envelope.from))) &&
      (!args.has('to') || args.get('to')!.split(',').includes(String(envelope.to))) &&
      (!args.has('type') || args.get('type') === envelope.message.type)
    const chosen = this.#h.queue.filter(matches)
    this.#h.queue = this.#h.queue.filter((envelope) => !matches(envelope))
    if (drop) return `dropped ${chosen.length}`
    return this.#printingNew(() => {
      for (const envelope of chosen) if (!this.#h.down.has(envelope.to)) this.#h.replica(envelope.to).step(envelope)
    })
  }

  #stabilize(): string {
    const lines: string[] = []
    for (let round = 0; round < 50 && this.#h.queue.length > 0; round += 1) {
      lines.push(this.#deliver(new Map(), false))
    }
    return lines.filter((line) => line !== '(no messages)').join('\n') || '(no messages)'
  }
}
