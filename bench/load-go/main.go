// load-go is the bench's load generator: closed-loop clients against etcd's v3 gRPC API
// (etcd itself, and later a paxos-kv node's etcd port) or paxos-kv's native HTTP API, with one loop
// and one latency histogram for every target, so the stores face the same client. Written in
// Go because a Node gRPC client costs too much CPU on a small machine to be a fair generator.
// It prints one JSON line; bench/go-driver.ts runs it.
//
//	load-go -target etcd-grpc|paxos-http -endpoints URL[,URL...] [-clients 16] [-conns N]
//	        [-duration 5s] [-workload put|get|stale-get|mix] [-value-bytes 100]
//	        [-keys random|sequential] [-key-space N] [-read-keys 1000] [-timeout 10s] [-populate]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"strings"
	"time"
)

// Limits on what one run may ask for, so a typo cannot exhaust the machine.
const (
	maxClients    = 4096
	maxValueBytes = 1 << 20 // paxos-kv's default value limit
	maxReadKeys   = 1_000_000
	maxKeySpace   = 1_000_000
	maxDuration   = time.Hour
)

type flags struct {
	target     targetName
	endpoints  []string
	clients    int
	conns      int
	duration   time.Duration
	timeout    time.Duration
	workload   workloadName
	valueBytes int
	keys       keyPattern
	keySpace   int
	readKeys   int
	populate   bool
}

func main() {
	options, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "load-go: %v\n", err)
		os.Exit(2)
	}
	store, err := newTarget(options.target, options.endpoints, options.clients, options.conns)
	if err != nil {
		fmt.Fprintf(os.Stderr, "load-go: %v\n", err)
		os.Exit(1)
	}
	defer store.close()
	if options.populate {
		if err := populate(store, options.clients, options.readKeys, bytes.Repeat([]byte("r"), options.valueBytes), options.timeout); err != nil {
			fmt.Fprintf(os.Stderr, "load-go: populating %d read keys failed: %v\n", options.readKeys, err)
			os.Exit(1)
		}
		printJSON(map[string]interface{}{"target": options.target, "populated": options.readKeys})
		return
	}
	result := runClosedLoop(store, runOptions{
		clients: options.clients, duration: options.duration, timeout: options.timeout,
		workload: options.workload, keys: options.keys, keySpace: options.keySpace, readKeys: options.readKeys,
		value: bytes.Repeat([]byte("v"), options.valueBytes), seed: time.Now().UnixNano(),
	})
	printJSON(summarize(options, result))
}

func parseFlags(args []string) (flags, error) {
	set := flag.NewFlagSet("load-go", flag.ContinueOnError)
	set.SetOutput(os.Stderr)
	target := set.String("target", "", "etcd-grpc or paxos-http")
	endpoints := set.String("endpoints", "", "comma-separated URLs (http://127.0.0.1:2379,...)")
	clients := set.Int("clients", 16, "closed-loop clients")
	conns := set.Int("conns", 0, "etcd-grpc: gRPC connections the clients share (0: one per 10 clients)")
	duration := set.Duration("duration", 5*time.Second, "measured time")
	timeout := set.Duration("timeout", 10*time.Second, "per-request timeout")
	workload := set.String("workload", "put", "put, get, stale-get or mix")
	valueBytes := set.Int("value-bytes", 100, "bytes per written value")
	keys := set.String("keys", "random", "PUT keys: random or sequential")
	keySpace := set.Int("key-space", 0, "PUTs overwrite this many keys (0: every PUT writes a new key)")
	readKeys := set.Int("read-keys", 1000, "keys the read workloads read (written by -populate)")
	populateOnly := set.Bool("populate", false, "write the read keys and exit instead of measuring")
	if err := set.Parse(args); err != nil {
		return flags{}, err
	}
	result := flags{
		target: targetName(*target), clients: *clients, conns: *conns, duration: *duration, timeout: *timeout,
		workload: workloadName(*workload), valueBytes: *valueBytes, keys: keyPattern(*keys), keySpace: *keySpace, readKeys: *readKeys,
		populate: *populateOnly,
	}
	for _, endpoint := range strings.Split(*endpoints, ",") {
		if endpoint = strings.TrimSpace(endpoint); endpoint != "" {
			result.endpoints = append(result.endpoints, endpoint)
		}
	}
	if result.conns == 0 {
		result.conns = (result.clients + 9) / 10
	}
	return result, validate(result)
}

func validate(f flags) error {
	switch {
	case f.target != targetEtcdGrpc && f.target != targetPaxosHTTP:
		return fmt.Errorf("-target: %q is neither etcd-grpc nor paxos-http", f.target)
	case len(f.endpoints) == 0:
		return fmt.Errorf("-endpoints: at least one URL")
	case f.clients < 1 || f.clients > maxClients:
		return fmt.Errorf("-clients: 1 to %d, not %d", maxClients, f.clients)
	case f.conns < 1 || f.conns > f.clients:
		return fmt.Errorf("-conns: 1 to -clients (%d), not %d", f.clients, f.conns)
	case f.duration <= 0 || f.duration > maxDuration:
		return fmt.Errorf("-duration: above 0 and at most %v, not %v", maxDuration, f.duration)
	case f.timeout <= 0:
		return fmt.Errorf("-timeout: above 0, not %v", f.timeout)
	case f.workload != workloadPut && f.workload != workloadGet && f.workload != workloadStaleGet && f.workload != workloadMix:
		return fmt.Errorf("-workload: put, get, stale-get or mix, not %q", f.workload)
	case f.valueBytes < 0 || f.valueBytes > maxValueBytes:
		return fmt.Errorf("-value-bytes: 0 to %d, not %d", maxValueBytes, f.valueBytes)
	case f.keys != keysRandom && f.keys != keysSequential:
		return fmt.Errorf("-keys: random or sequential, not %q", f.keys)
	case f.keySpace < 0 || f.keySpace > maxKeySpace:
		return fmt.Errorf("-key-space: 0 to %d, not %d", maxKeySpace, f.keySpace)
	case f.readKeys < 1 || f.readKeys > maxReadKeys:
		return fmt.Errorf("-read-keys: 1 to %d, not %d", maxReadKeys, f.readKeys)
	}
	return nil
}

// summary is the one JSON line; its latency and count fields carry the names of bench's
// WorkloadResult (bench/workloads.ts).
type summary struct {
	Target         targetName        `json:"target"`
	Endpoints      []string          `json:"endpoints"`
	Workload       workloadName      `json:"workload"`
	Clients        int               `json:"connections"`
	Conns          int               `json:"grpcConns,omitempty"`
	Keys           keyPattern        `json:"keys"`
	KeySpace       int               `json:"keySpace,omitempty"`
	ValueBytes     int               `json:"valueBytes"`
	ElapsedSeconds float64           `json:"elapsedSeconds"`
	Requests       uint64            `json:"requests"`
	OpsPerSecond   int64             `json:"opsPerSecond"`
	LatencyMsP50   float64           `json:"latencyMsP50"`
	LatencyMsP99   float64           `json:"latencyMsP99"`
	LatencyMsP999  float64           `json:"latencyMsP999"`
	Errors         uint64            `json:"errors"`
	ErrorsByKind   map[string]uint64 `json:"errorsByKind"`
}

func summarize(f flags, result *runResult) summary {
	ms := func(us uint64) float64 { return math.Round(float64(us)/10) / 100 }
	conns := 0
	if f.target == targetEtcdGrpc {
		conns = f.conns
	}
	errors := result.errors.total()
	return summary{
		Target: f.target, Endpoints: f.endpoints, Workload: f.workload, Clients: f.clients, Conns: conns,
		Keys: f.keys, KeySpace: f.keySpace, ValueBytes: f.valueBytes,
		ElapsedSeconds: math.Round(result.elapsed.Seconds()*1000) / 1000,
		Requests:       result.succeeded + errors,
		OpsPerSecond:   int64(math.Round(float64(result.succeeded) / result.elapsed.Seconds())),
		LatencyMsP50:   ms(result.latency.percentileUs(50)),
		LatencyMsP99:   ms(result.latency.percentileUs(99)),
		LatencyMsP999:  ms(result.latency.percentileUs(99.9)),
		Errors:         errors,
		ErrorsByKind:   result.errors,
	}
}

func printJSON(value interface{}) {
	line, err := json.Marshal(value)
	if err != nil {
		panic(err) // the summary holds only numbers, strings and a string-keyed map
	}
	fmt.Println(string(line))
}
