package main

import (
	"context"
	"sync"
	"time"
)

// populate writes the keys the read workloads read (bench/read/0 .. readKeys-1), split among
// `clients` writers. Not measured; the first failure is returned, so a run never reads keys
// that are not there.
func populate(store target, clients int, readKeys int, value []byte, timeout time.Duration) error {
	var wait sync.WaitGroup
	failures := make([]error, clients)
	for index := 0; index < clients; index++ {
		wait.Add(1)
		go func(index int) {
			defer wait.Done()
			client := store.client(index)
			for key := index; key < readKeys; key += clients {
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				err := client.put(ctx, readKey(key), value)
				cancel()
				if err != nil {
					failures[index] = err
					return
				}
			}
		}(index)
	}
	wait.Wait()
	for _, err := range failures {
		if err != nil {
			return err
		}
	}
	return nil
}
