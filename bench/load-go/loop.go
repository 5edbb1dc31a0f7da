package main

import (
	"context"
	"math/rand"
	"sync"
	"time"
)

// runOptions is one measured cell: a workload with a number of clients for a duration.
type runOptions struct {
	clients  int
	duration time.Duration
	timeout  time.Duration
	workload workloadName
	keys     keyPattern
	keySpace int
	readKeys int
	value    []byte
	seed     int64
}

type runResult struct {
	elapsed   time.Duration
	succeeded uint64
	latency   histogram
	errors    errorCounts
}

// runClosedLoop is the one load loop for every target: `clients` goroutines, each sending its
// next request when the previous answer arrived, until the duration is over. A request that
// is in flight at the end finishes and counts; the elapsed time runs until the last one has.
// Latencies are of successful requests; failures are counted by kind.
func runClosedLoop(store target, options runOptions) *runResult {
	var sequence uint64
	perClient := make([]*runResult, options.clients)
	var wait sync.WaitGroup
	start := time.Now()
	deadline := start.Add(options.duration)
	for index := 0; index < options.clients; index++ {
		perClient[index] = &runResult{errors: errorCounts{}}
		ops := &operations{
			workload: options.workload, keys: options.keys, keySpace: options.keySpace, readKeys: options.readKeys, value: options.value,
			client: index, random: rand.New(rand.NewSource(options.seed + int64(index))), sequence: &sequence,
		}
		wait.Add(1)
		go func(result *runResult, client storeClient) {
			defer wait.Done()
			runClient(client, ops, deadline, options.timeout, result)
		}(perClient[index], store.client(index))
	}
	wait.Wait()
	total := &runResult{elapsed: time.Since(start), errors: errorCounts{}}
	for _, result := range perClient {
		total.succeeded += result.succeeded
		total.latency.merge(&result.latency)
		total.errors.merge(result.errors)
	}
	return total
}

func runClient(client storeClient, ops *operations, deadline time.Time, timeout time.Duration, result *runResult) {
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		started := time.Now()
		err := ops.next(ctx, client)
		latency := time.Since(started)
		cancel()
		if err != nil {
			result.errors.add(errorKind(err), 1)
			continue
		}
		result.succeeded++
		result.latency.record(latency)
	}
}
