import { describe, expect, it } from 'vitest'
import { nodeId, type ConfigMember } from '../../src/core/index.js'
import { planMemberChange } from '../../src/node/member-change.js'

const member = (id: number, role: ConfigMember['role'] = 'voter'): ConfigMember => ({ id: nodeId(id), url: `http://127.0.0.1:${7000 + id}`, role })
const three = [member(1), member(2), member(3)]
const caughtUp = (id: number) => id !== 5

describe('planMemberChange', () => {
  it.each([
    ['adds a learner', { type: 'add', id: nodeId(4), url: 'http://127.0.0.1:7004', learner: true }, three, { type: 'members', members: [...three, member(4, 'learner')] }],
    ['adds a voter when asked', { type: 'add', id: nodeId(4), url: 'http://127.0.0.1:7004', learner: false }, three, { type: 'members', members: [...three, member(4)] }],
    ['answers a repeated add as done', { type: 'add', id: nodeId(3), url: 'http://127.0.0.1:7003', learner: true }, three, { type: 'unchanged' }],
    ['refuses an id taken at another URL', { type: 'add', id: nodeId(3), url: 'http://127.0.0.1:9999', learner: true }, three, { type: 'refused', code: 'member_exists' }],
    ['refuses a URL another member has', { type: 'add', id: nodeId(4), url: 'http://127.0.0.1:7003', learner: true }, three, { type: 'refused', code: 'member_exists' }],
    ['promotes a caught-up learner', { type: 'promote', id: nodeId(4) }, [...three, member(4, 'learner')], { type: 'members', members: [...three, member(4)] }],
    ['refuses to promote a learner behind the log', { type: 'promote', id: nodeId(5) }, [...three, member(5, 'learner')], { type: 'refused', code: 'not_caught_up' }],
    ['answers promoting a voter as done', { type: 'promote', id: nodeId(2) }, three, { type: 'unchanged' }],
    ['refuses to promote a non-member', { type: 'promote', id: nodeId(6) }, three, { type: 'refused', code: 'not_found' }],
    ['removes a member, the leader too', { type: 'remove', id: nodeId(1) }, three, { type: 'members', members: [member(2), member(3)] }],
    ['refuses to remove a non-member', { type: 'remove', id: nodeId(6) }, three, { type: 'refused', code: 'not_found' }],
    ['refuses to remove the last voter', { type: 'remove', id: nodeId(1) }, [member(1), member(2, 'learner')], { type: 'refused', code: 'bad_request' }],
  ] as const)('%s', (_name, change, current, expected) => {
    expect(planMemberChange(current, change, caughtUp)).toMatchObject(expected)
  })
})
