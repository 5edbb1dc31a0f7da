#!/usr/bin/env node
// The `paxos-kv` binary (dist/cli.js). Everything lives in cli/main.ts.
import { main } from './cli/main.js'

process.exitCode = await main(process.argv.slice(2))
