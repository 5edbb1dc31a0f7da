package main

import (
	"fmt"
	"math/rand"
	"testing"
)

func putKeys(keys keyPattern, keySpace, count int) []string {
	var sequence uint64
	ops := &operations{workload: workloadPut, keys: keys, keySpace: keySpace, random: rand.New(rand.NewSource(1)), sequence: &sequence}
	result := make([]string, count)
	for index := range result {
		ops.count++
		result[index] = ops.putKey()
	}
	return result
}

func TestKeySpaceRandomOverwritesOnlyItsKeys(t *testing.T) {
	allowed := map[string]bool{}
	for index := 0; index < 1000; index++ {
		allowed[overwriteKey(index)] = true
	}
	seen := map[string]bool{}
	for _, key := range putKeys(keysRandom, 1000, 20_000) {
		if !allowed[key] {
			t.Fatalf("key %q is outside the key space of 1000", key)
		}
		seen[key] = true
	}
	// 20 draws per key on average: every key is drawn (missing one has odds of about e^-20).
	if len(seen) != 1000 {
		t.Fatalf("%d distinct keys of 1000", len(seen))
	}
}

func TestKeySpaceSequentialCyclesInOrder(t *testing.T) {
	keys := putKeys(keysSequential, 3, 7)
	want := []string{"bench/put/0", "bench/put/1", "bench/put/2", "bench/put/0", "bench/put/1", "bench/put/2", "bench/put/0"}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
}

func TestNoKeySpaceWritesNewKeys(t *testing.T) {
	for _, pattern := range []keyPattern{keysRandom, keysSequential} {
		seen := map[string]bool{}
		for _, key := range putKeys(pattern, 0, 10_000) {
			if seen[key] {
				t.Fatalf("%s: key %q written twice", pattern, key)
			}
			seen[key] = true
		}
	}
}

func TestKeySpaceIsValidated(t *testing.T) {
	for _, value := range []string{"-1", "1000001"} {
		if _, err := parseFlags([]string{"-target", "paxos-http", "-endpoints", "http://127.0.0.1:1", "-key-space", value}); err == nil {
			t.Fatalf("-key-space %s was accepted", value)
		}
	}
	parsed, err := parseFlags([]string{"-target", "paxos-http", "-endpoints", "http://127.0.0.1:1", "-key-space", "1000"})
	if err != nil || parsed.keySpace != 1000 {
		t.Fatalf("-key-space 1000: %v, %+v", err, parsed)
	}
}
