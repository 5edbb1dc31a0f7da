package main

import (
	"context"
	"fmt"
)

// target is one store behind one protocol; storeClient is what one closed-loop client holds.
// Every target runs under the same loop and the same histogram (loop.go), so two stores differ
// only in what is measured, not in how.
type target interface {
	client(index int) storeClient
	close()
}

type storeClient interface {
	put(ctx context.Context, key string, value []byte) error
	// get reads one key: linearizable, or from the serving member's local state (stale).
	get(ctx context.Context, key string, linearizable bool) error
}

// opError is a failed operation with the kind it is counted under.
type opError struct {
	kind   string
	detail string
}

func (e *opError) Error() string { return fmt.Sprintf("%s: %s", e.kind, e.detail) }

func errorKind(err error) string {
	if failure, ok := err.(*opError); ok {
		return failure.kind
	}
	return "other"
}

type targetName string

const (
	targetEtcdGrpc  targetName = "etcd-grpc"
	targetPaxosHTTP targetName = "paxos-http"
)

func newTarget(name targetName, endpoints []string, clients int, conns int) (target, error) {
	switch name {
	case targetEtcdGrpc:
		return newEtcdTarget(endpoints, conns)
	case targetPaxosHTTP:
		return newPaxosHTTPTarget(endpoints, clients), nil
	}
	return nil, fmt.Errorf("-target: %q is neither etcd-grpc nor paxos-http", name)
}
