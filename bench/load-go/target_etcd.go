package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// etcdTarget speaks etcd's v3 gRPC API through etcd's own Go client, the way etcd's users do:
// Put, Get (linearizable by default) and Get with WithSerializable (the member's local state).
// Clients share `conns` gRPC connections round-robin, as etcd's benchmark tool does; a
// paxos-kv node's etcd port is reached with the same target.
type etcdTarget struct {
	conns []*clientv3.Client
}

type etcdClient struct{ kv clientv3.KV }

func newEtcdTarget(endpoints []string, conns int) (*etcdTarget, error) {
	quiet := zap.NewProductionConfig()
	quiet.Level = zap.NewAtomicLevelAt(zap.ErrorLevel)
	result := &etcdTarget{}
	for i := 0; i < conns; i++ {
		conn, err := clientv3.New(clientv3.Config{
			Endpoints:   endpoints,
			DialTimeout: 5 * time.Second,
			DialOptions: []grpc.DialOption{grpc.WithBlock()},
			LogConfig:   &quiet,
		})
		if err != nil {
			result.close()
			return nil, fmt.Errorf("etcd-grpc: cannot connect to %v: %v", endpoints, err)
		}
		result.conns = append(result.conns, conn)
	}
	return result, nil
}

func (t *etcdTarget) client(index int) storeClient {
	return etcdClient{kv: t.conns[index%len(t.conns)].KV}
}

func (t *etcdTarget) close() {
	for _, conn := range t.conns {
		conn.Close()
	}
}

func (c etcdClient) put(ctx context.Context, key string, value []byte) error {
	_, err := c.kv.Put(ctx, key, string(value))
	return grpcError(err)
}

func (c etcdClient) get(ctx context.Context, key string, linearizable bool) error {
	var err error
	if linearizable {
		_, err = c.kv.Get(ctx, key)
	} else {
		_, err = c.kv.Get(ctx, key, clientv3.WithSerializable())
	}
	return grpcError(err)
}

// grpcError names a failure by its gRPC code ("grpc_Unavailable"), or "timeout" when the
// operation's own deadline passed first.
func grpcError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &opError{kind: "timeout", detail: err.Error()}
	}
	if reply, ok := status.FromError(err); ok {
		return &opError{kind: "grpc_" + reply.Code().String(), detail: reply.Message()}
	}
	return &opError{kind: "other", detail: err.Error()}
}
