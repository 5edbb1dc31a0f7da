package main

import (
	"context"
	"sync"
	"time"
)

// populate writes the keys the read workloads read (bench/read/0 .. readKeys-1), split among
// `clients` writers. Not measured. A failed PUT is tried again a few times (writing the same
// value to the same key twice leaves the same data, so a retry is harmless here: a fill of a
// million keys may meet an election or a slow snapshot); a key that still fails is returned,
// so a run never reads keys that are not there.
const populateAttempts = 5

func populate(store target, clients int, readKeys int, value []byte, timeout time.Duration) error {
	var wait sync.WaitGroup
	failures := make([]error, clients)
	for index := 0; index < clients; index++ {
		wait.Add(1)
		go func(index int) {
			defer wait.Done()
			client := store.client(index)
			for key := index; key < readKeys; key += clients {
				var err error
				for attempt := 0; attempt < populateAttempts; attempt++ {
					if attempt > 0 {
						time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
					}
					ctx, cancel := context.WithTimeout(context.Background(), timeout)
					err = client.put(ctx, readKey(key), value)
					cancel()
					if err == nil {
						break
					}
				}
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
