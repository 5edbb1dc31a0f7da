/**
 * Goal: hand-built protocol stories, readable as transcripts (etcd's datadriven style): each
 * *.txt holds commands and, under `----`, the exact output expected.
 * Method: run every command against an InteractionEnv and compare. `UPDATE_SCENARIOS=1`
 * rewrites the expectations; review the diff before committing.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { InteractionEnv } from './interaction-env.js'

type Block = { command: string; expected: string }

const dir = new URL('./', import.meta.url)
const files = readdirSync(dir).filter((name) => name.endsWith('.txt'))

function parse(text: string): Block[] {
  const blocks: Block[] = []
  for (const chunk of text.split(/\n\n(?=[^\n])/)) {
    const lines = chunk.split('\n').filter((line) => !line.startsWith('#'))
    const separator = lines.indexOf('----')
    if (separator < 0) continue
    blocks.push({ command: lines.slice(0, separator).join(' ').trim(), expected: lines.slice(separator + 1).join('\n').trim() })
  }
  return blocks
}

function execute(env: InteractionEnv, command: string): string {
  const [name = '', ...words] = command.split(/\s+/)
  const positional = words.filter((word) => !word.includes('='))
  const args = new Map(words.filter((word) => word.includes('=')).map((word) => word.split('=') as [string, string]))
  return env.run(name, positional, args)
}

describe('transcripts', () => {
  it('has transcripts', () => expect(files.length).toBeGreaterThan(0))
  for (const file of files) {
    it(file, () => {
      const url = new URL(file, dir)
      const blocks = parse(readFileSync(url, 'utf8'))
      const env = new InteractionEnv()
      const actual = blocks.map((block) => ({ ...block, output: execute(env, block.command) }))
      if (process.env.UPDATE_SCENARIOS === '1') {
        const header = readFileSync(url, 'utf8').split('\n').filter((line) => line.startsWith('#')).join('\n')
        const body = actual.map((block) => `${block.command}\n----\n${block.output}`).join('\n\n')
        writeFileSync(url, `${header}\n${body}\n`)
        return
      }
      for (const block of actual) expect(block.output, `${file}: ${block.command}`).toBe(block.expected)
    })
  }
})
