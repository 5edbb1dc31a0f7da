package main

import (
	"context"
	"fmt"
	"math/rand"
	"sync/atomic"
)

// The workloads, the same as bench/workloads.ts and bench/wrk/workload.lua: put writes distinct
// keys; get and stale-get read the readKeys keys that -populate wrote; mix is 9 linearizable
// GETs then 1 PUT, per client.
type workloadName string

const (
	workloadPut      workloadName = "put"
	workloadGet      workloadName = "get"
	workloadStaleGet workloadName = "stale-get"
	workloadMix      workloadName = "mix"
)

// keyPattern spreads PUT keys: random ones land anywhere in the store's ordered index;
// sequential ones (one counter for the whole run) always append, the best case for a B-tree.
// With a key space of N (-key-space), PUTs overwrite the N keys bench/put/0 .. N-1 instead of
// writing new ones: random draws one of them, sequential cycles through them in order.
type keyPattern string

const (
	keysRandom     keyPattern = "random"
	keysSequential keyPattern = "sequential"
)

func readKey(index int) string { return fmt.Sprintf("bench/read/%d", index) }

// operations is one client's stream of requests. Not shared: each client owns its random
// source and counter; only the sequential key counter is common to all.
type operations struct {
	workload workloadName
	keys     keyPattern
	keySpace int
	readKeys int
	value    []byte
	client   int
	random   *rand.Rand
	count    uint64
	sequence *uint64
}

func (o *operations) next(ctx context.Context, store storeClient) error {
	o.count++
	switch o.workload {
	case workloadPut:
		return store.put(ctx, o.putKey(), o.value)
	case workloadGet:
		return store.get(ctx, o.getKey(), true)
	case workloadStaleGet:
		return store.get(ctx, o.getKey(), false)
	case workloadMix:
		if o.count%10 == 0 {
			return store.put(ctx, o.putKey(), o.value)
		}
		return store.get(ctx, o.getKey(), true)
	}
	panic(fmt.Sprintf("workload %q passed validation", o.workload))
}

func (o *operations) putKey() string {
	if o.keySpace > 0 {
		return overwriteKey(o.overwriteIndex())
	}
	if o.keys == keysSequential {
		return fmt.Sprintf("bench/put/%012d", atomic.AddUint64(o.sequence, 1))
	}
	return fmt.Sprintf("bench/put/%d-%d-%d", o.random.Int63n(1e9), o.client, o.count)
}

func (o *operations) overwriteIndex() int {
	if o.keys == keysSequential {
		return int((atomic.AddUint64(o.sequence, 1) - 1) % uint64(o.keySpace))
	}
	return o.random.Intn(o.keySpace)
}

func overwriteKey(index int) string { return fmt.Sprintf("bench/put/%d", index) }

func (o *operations) getKey() string { return readKey(o.random.Intn(o.readKeys)) }
