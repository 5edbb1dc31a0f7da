/**
 * The etcd v3 API's gRPC definitions, loaded once from our .proto files (shipped beside the
 * compiled code by the build). Requests decode with int64s as decimal strings (no precision is
 * lost), bytes as Buffers, enums as names and every field present (proto3 defaults filled in).
 * @module
 */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js'
import type { PackageDefinition } from '@grpc/proto-loader'

const protoDir = fileURLToPath(new URL('./proto/', import.meta.url))

/** Loaded on first use: a node that never serves or forwards an etcd call never parses them. */
let loaded: PackageDefinition | null = null

function packageDefinition(): PackageDefinition {
  const { loadSync } = createRequire(import.meta.url)('@grpc/proto-loader') as typeof import('@grpc/proto-loader')
  loaded ??= loadSync(['rpc.proto'], { includeDirs: [protoDir], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })
  return loaded
}

/** The services paxos-kv registers, by etcd's names. */
export const etcdServiceNames = ['KV', 'Watch', 'Lease', 'Maintenance', 'Cluster'] as const
export type EtcdServiceName = (typeof etcdServiceNames)[number]

export function serviceDefinition(name: EtcdServiceName): ServiceDefinition {
  const definition = packageDefinition()[`etcdserverpb.${name}`]
  // A message or enum definition has a `format`; a service is its methods.
  if (definition === undefined || 'format' in definition) {
    throw new Error(`rpc.proto has no service etcdserverpb.${name}`)
  }
  return definition as ServiceDefinition
}

/** One method's definition: its path and its request and response codecs. */
export function methodDefinition(service: EtcdServiceName, method: string): MethodDefinition<object, object> {
  const definition = serviceDefinition(service)[method]
  if (definition === undefined) throw new Error(`etcdserverpb.${service} has no method ${method}`)
  return definition as MethodDefinition<object, object>
}
