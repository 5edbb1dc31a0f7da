/**
 * Goal: the memory store (simulator) and the SQLite store (production) are interchangeable: the
 * same chosen entries give the same results, revision, applied index and listing on both, so
 * the simulator's verdicts carry over to real nodes.
 * Method: seeded random batches (puts, deletes, cas hits and misses, idempotency and request-id
 * retries, reused keys, clock jumps that expire, small record bounds that refuse) applied to both; compared after every slot. A failure
 * names its seed.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { randomBelow, randomChance, revision, seededRandom, slot, type Command, type Random } from '../../src/core/index.js'
import { limits } from '../../src/core/limits.js'
import { KvMemoryStore } from '../../src/state-machine/kv-memory-store.js'
import { KvSqliteStore } from '../../src/state-machine/kv-sqlite-store.js'
import { KvStateMachine } from '../../src/state-machine/kv-state-machine.js'
import { migrate } from '../../src/storage/migrate.js'

const idempotencyRetentionMs = limits.idempotencyRetentionMs
/** Small bounds, so that refusals happen; the request space's retention is shorter, as in production. */
const options = {
  idempotency: { recordsMax: 6, retentionMs: idempotencyRetentionMs },
  request: { recordsMax: 4, retentionMs: idempotencyRetentionMs / 4 },
}
const keys = ['a', 'a/b', 'a/\u00e9', 'a/\u{1F600}', 'a/\uE000', 'b', 'b\u0000c']
const seeds = [1, 2, 3, 4, 5, 6, 7, 8]

function randomCommand(random: Random, state: { atMs: number; proposals: number }, version: number): Command {
  if (randomChance(random, 1, 10)) return { type: 'noop' }
  state.proposals += 1
  // Mostly small steps, sometimes a jump past the retention, sometimes an older proposer clock.
  state.atMs += randomChance(random, 1, 20) ? idempotencyRetentionMs : randomBelow(random, 1_000)
  const atMs = randomChance(random, 1, 8) ? Math.max(0, state.atMs - idempotencyRetentionMs) : state.atMs
  const token = randomBelow(random, 3)
  const casChoice = randomBelow(random, 4)
  const cas = casChoice === 0 ? revision(0) : casChoice === 1 ? revision(version) : null
  const fields = {
    proposal: `p${state.proposals}`,
    key: keys[randomBelow(random, keys.length)]!,
    cas,
    idempotency: token === 0 ? { key: `i${randomBelow(random, 12)}`, atMs } : null,
    // Request ids name one request each, but retries of it come in many slots.
    ...(token === 1 ? { request: { id: `r${randomBelow(random, 8)}`, atMs } } : {}),
  }
  if (randomChance(random, 1, 3)) return { type: 'delete', ...fields }
  return { type: 'put', ...fields, value: Buffer.from(`v${state.proposals}`).toString('base64') }
}

function sqliteMachine(): KvStateMachine {
  const db = new Database(join(mkdtempSync(join(tmpdir(), 'paxos-kv-agree-')), 'kv.db'))
  db.pragma('synchronous = OFF') // speed only: this test never crashes
  migrate(db)
  return new KvStateMachine(new KvSqliteStore(db), options)
}

describe('memory and SQLite KV stores agree', () => {
  it.each(seeds)('seed %i', (seed) => {
    const random = seededRandom(seed)
    const memory = new KvStateMachine(new KvMemoryStore(), options)
    const sqlite = sqliteMachine()
    const state = { atMs: 0, proposals: 0 }
    const replay = `replay: seed ${seed} in test/state-machine/kv-stores-agree.test.ts`
    for (let at = 1; at <= 300; at += 1) {
      const size = 1 + randomBelow(random, 4)
      const value = Array.from({ length: size }, () => randomCommand(random, state, randomBelow(random, memory.revision() + 1)))
      const entry = { slot: slot(at), value }
      expect(sqlite.apply([entry]), `${replay}, slot ${at}`).toEqual(memory.apply([entry]))
      expect(sqlite.revision(), replay).toBe(memory.revision())
      expect(sqlite.appliedIndex(), replay).toBe(memory.appliedIndex())
    }
    expect(sqlite.range('', 100), replay).toEqual(memory.range('', 100))
    expect(sqlite.range('a/', 2), replay).toEqual(memory.range('a/', 2))
    expect(memory.revision(), `${replay}: the run should write`).toBeGreaterThan(50)
    sqlite.close()
  })
})
