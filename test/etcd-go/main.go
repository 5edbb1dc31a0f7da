// Command etcd-go drives a paxos-kv cluster's etcd v3 API through etcd's own Go client
// (go.etcd.io/etcd/clientv3 from Debian's golang-etcd-server-dev), the library most etcd
// programs are written against. The integration test test/integration/etcd-go-client.test.ts
// builds and runs it; it is not part of the product.
//
//	etcd-go -endpoints host:port,... -mode calls -prefix P
//	    every call a Go program makes, each checked, on keys under P (a fresh prefix per run);
//	    one line per check: "ok NAME" or
//	    "FAIL NAME: why"; exit 1 when any check failed.
//	etcd-go -endpoints host:port,... -mode write -prefix P -count N
//	    N sequential puts P000..., one line "acked KEY" per acknowledged put, "failed KEY: why"
//	    otherwise (the test kills the leader meanwhile: the client must move to another endpoint).
//	etcd-go -endpoints host:port,... -mode read -prefix P
//	    one line "KEY VALUE" per key under P, from a linearizable range.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/concurrency"
	"go.uber.org/zap"
)

func main() {
	endpoints := flag.String("endpoints", "", "comma-separated host:port list")
	mode := flag.String("mode", "calls", "calls, write or read")
	prefix := flag.String("prefix", "go/", "key prefix: every key the run writes starts with it")
	count := flag.Int("count", 100, "puts for write")
	memberCount = flag.Int("members", 3, "members the cluster has (calls)")
	flag.Parse()
	if *endpoints == "" {
		fmt.Fprintln(os.Stderr, "etcd-go: -endpoints is required")
		os.Exit(2)
	}
	quiet := zap.NewProductionConfig()
	quiet.Level = zap.NewAtomicLevelAt(zap.ErrorLevel)
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   strings.Split(*endpoints, ","),
		DialTimeout: 10 * time.Second,
		LogConfig:   &quiet,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcd-go: cannot connect: %v\n", err)
		os.Exit(2)
	}
	defer client.Close()
	ns = *prefix
	switch *mode {
	case "calls":
		checks := &checker{}
		runCalls(client, checks)
		if checks.failed > 0 {
			os.Exit(1)
		}
	case "write":
		runWrites(client, *prefix, *count)
	case "read":
		if err := runRead(client, *prefix); err != nil {
			fmt.Fprintf(os.Stderr, "etcd-go: read: %v\n", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "etcd-go: unknown -mode %q\n", *mode)
		os.Exit(2)
	}
}

// ns starts every key a run writes (-prefix), so runs on one cluster never meet.
var ns string

// memberCount is how many members MemberList must list (-members).
var memberCount *int

type checker struct{ failed int }

// check prints one line for a named check: ok, or FAIL with the reason.
func (c *checker) check(name string, err error) {
	if err != nil {
		c.failed++
		fmt.Printf("FAIL %s: %v\n", name, err)
		return
	}
	fmt.Printf("ok %s\n", name)
}

func timeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 15*time.Second)
}

func runCalls(client *clientv3.Client, c *checker) {
	c.check("put and get", putAndGet(client))
	c.check("range with prefix, limit and count", rangePrefix(client))
	c.check("delete one key with prev_kv, and a prefix", deletePrevKV(client))
	c.check("txn compare and swap", txnCompareAndSwap(client))
	c.check("watch from a revision", watchFromRevision(client))
	c.check("lease grant, keepalive, time to live and revoke", leaseLife(client))
	c.check("concurrency mutex", mutexExcludes(client))
	c.check("concurrency election", electionHandsOver(client))
	c.check("member list and status", membersAndStatus(client))
}

func putAndGet(client *clientv3.Client) error {
	ctx, cancel := timeout()
	defer cancel()
	put, err := client.Put(ctx, ns+"one", "1")
	if err != nil {
		return err
	}
	if put.Header.Revision < 1 || put.Header.ClusterId == 0 || put.Header.MemberId == 0 {
		return fmt.Errorf("put header %+v lacks a revision, cluster id or member id", put.Header)
	}
	again, err := client.Put(ctx, ns+"one", "2", clientv3.WithPrevKV())
	if err != nil {
		return err
	}
	if again.PrevKv == nil || string(again.PrevKv.Value) != "1" {
		return fmt.Errorf("put's prev_kv is %+v, want value 1", again.PrevKv)
	}
	got, err := client.Get(ctx, ns+"one")
	if err != nil {
		return err
	}
	if len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "2" || got.Kvs[0].Version != 2 {
		return fmt.Errorf("get answered %+v, want value 2 at version 2", got.Kvs)
	}
	kv := got.Kvs[0]
	if kv.CreateRevision != put.Header.Revision || kv.ModRevision != again.Header.Revision {
		return fmt.Errorf("create/mod revision %d/%d, want %d/%d", kv.CreateRevision, kv.ModRevision, put.Header.Revision, again.Header.Revision)
	}
	stale, err := client.Get(ctx, ns+"one", clientv3.WithSerializable())
	if err != nil {
		return err
	}
	if len(stale.Kvs) != 1 {
		return fmt.Errorf("a serializable get found %d keys", len(stale.Kvs))
	}
	return nil
}

func rangePrefix(client *clientv3.Client) error {
	ctx, cancel := timeout()
	defer cancel()
	for i := 0; i < 7; i++ {
		if _, err := client.Put(ctx, fmt.Sprintf(ns+"range/%02d", i), fmt.Sprintf("v%d", i)); err != nil {
			return err
		}
	}
	page, err := client.Get(ctx, ns+"range/", clientv3.WithPrefix(), clientv3.WithLimit(3))
	if err != nil {
		return err
	}
	if len(page.Kvs) != 3 || !page.More || page.Count != 7 || string(page.Kvs[0].Key) != ns+"range/00" {
		return fmt.Errorf("prefix page: %d keys, more %v, count %d", len(page.Kvs), page.More, page.Count)
	}
	counted, err := client.Get(ctx, ns+"range/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return err
	}
	if counted.Count != 7 || len(counted.Kvs) != 0 {
		return fmt.Errorf("count only: count %d with %d keys", counted.Count, len(counted.Kvs))
	}
	keys, err := client.Get(ctx, ns+"range/05", clientv3.WithRange(ns+"range/07"), clientv3.WithKeysOnly())
	if err != nil {
		return err
	}
	if len(keys.Kvs) != 2 || string(keys.Kvs[1].Key) != ns+"range/06" || len(keys.Kvs[0].Value) != 0 {
		return fmt.Errorf("keys only in [05, 07): %d keys", len(keys.Kvs))
	}
	fromKey, err := client.Get(ctx, ns+"range/06", clientv3.WithFromKey(), clientv3.WithLimit(1))
	if err != nil {
		return err
	}
	if len(fromKey.Kvs) != 1 || string(fromKey.Kvs[0].Key) != ns+"range/06" {
		return fmt.Errorf("from key 06: %+v", fromKey.Kvs)
	}
	return nil
}

func deletePrevKV(client *clientv3.Client) error {
	ctx, cancel := timeout()
	defer cancel()
	one, err := client.Delete(ctx, ns+"range/00", clientv3.WithPrevKV())
	if err != nil {
		return err
	}
	if one.Deleted != 1 || len(one.PrevKvs) != 1 || string(one.PrevKvs[0].Value) != "v0" {
		return fmt.Errorf("deleted %d with prev_kvs %+v, want go/range/00 = v0", one.Deleted, one.PrevKvs)
	}
	deleted, err := client.Delete(ctx, ns+"range/", clientv3.WithPrefix())
	if err != nil {
		return err
	}
	if deleted.Deleted != 6 {
		return fmt.Errorf("the prefix delete deleted %d, want 6", deleted.Deleted)
	}
	left, err := client.Get(ctx, ns+"range/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return err
	}
	if left.Count != 0 {
		return fmt.Errorf("%d keys left after the delete", left.Count)
	}
	return nil
}

func txnCompareAndSwap(client *clientv3.Client) error {
	ctx, cancel := timeout()
	defer cancel()
	if _, err := client.Put(ctx, ns+"cas", "a"); err != nil {
		return err
	}
	won, err := client.Txn(ctx).
		If(clientv3.Compare(clientv3.Value(ns+"cas"), "=", "a")).
		Then(clientv3.OpPut(ns+"cas", "b"), clientv3.OpGet(ns+"cas")).
		Else(clientv3.OpGet(ns + "cas")).
		Commit()
	if err != nil {
		return err
	}
	if !won.Succeeded || len(won.Responses) != 2 || string(won.Responses[1].GetResponseRange().Kvs[0].Value) != "b" {
		return fmt.Errorf("the swap from a: succeeded %v", won.Succeeded)
	}
	lost, err := client.Txn(ctx).
		If(clientv3.Compare(clientv3.Value(ns+"cas"), "=", "a")).
		Then(clientv3.OpPut(ns+"cas", "c")).
		Else(clientv3.OpGet(ns + "cas")).
		Commit()
	if err != nil {
		return err
	}
	if lost.Succeeded || string(lost.Responses[0].GetResponseRange().Kvs[0].Value) != "b" {
		return fmt.Errorf("the second swap from a succeeded or read the wrong value")
	}
	created, err := client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(ns+"cas-new"), "=", 0)).
		Then(clientv3.OpPut(ns+"cas-new", "x")).
		Commit()
	if err != nil {
		return err
	}
	if !created.Succeeded {
		return fmt.Errorf("create-if-absent of a missing key did not succeed")
	}
	return nil
}

func watchFromRevision(client *clientv3.Client) error {
	ctx, cancel := timeout()
	defer cancel()
	first, err := client.Put(ctx, ns+"watch/a", "1")
	if err != nil {
		return err
	}
	if _, err := client.Put(ctx, ns+"watch/b", "2"); err != nil {
		return err
	}
	if _, err := client.Delete(ctx, ns+"watch/a"); err != nil {
		return err
	}
	events := client.Watch(clientv3.WithRequireLeader(ctx), ns+"watch/", clientv3.WithPrefix(), clientv3.WithRev(first.Header.Revision), clientv3.WithPrevKV())
	var seen []string
	for len(seen) < 3 {
		response, open := <-events
		if !open {
			return fmt.Errorf("the watch closed after %v", seen)
		}
		if err := response.Err(); err != nil {
			return err
		}
		for _, event := range response.Events {
			seen = append(seen, fmt.Sprintf("%s %s", event.Type, event.Kv.Key))
			if event.Type == clientv3.EventTypeDelete && (event.PrevKv == nil || string(event.PrevKv.Value) != "1") {
				return fmt.Errorf("the delete's prev_kv is %+v", event.PrevKv)
			}
		}
	}
	want := fmt.Sprintf("PUT %[1]swatch/a,PUT %[1]swatch/b,DELETE %[1]swatch/a", ns)
	if strings.Join(seen, ",") != want {
		return fmt.Errorf("events %v, want %s", seen, want)
	}
	return nil
}

func leaseLife(client *clientv3.Client) error {
	ctx, cancel := timeout()
	defer cancel()
	grant, err := client.Grant(ctx, 30)
	if err != nil {
		return err
	}
	if _, err := client.Put(ctx, ns+"leased", "v", clientv3.WithLease(grant.ID)); err != nil {
		return err
	}
	alive, err := client.KeepAliveOnce(ctx, grant.ID)
	if err != nil {
		return err
	}
	if alive.TTL < 1 {
		return fmt.Errorf("keepalive answered TTL %d", alive.TTL)
	}
	ttl, err := client.TimeToLive(ctx, grant.ID, clientv3.WithAttachedKeys())
	if err != nil {
		return err
	}
	if ttl.GrantedTTL != 30 || len(ttl.Keys) != 1 || string(ttl.Keys[0]) != ns+"leased" {
		return fmt.Errorf("time to live: granted %d, keys %q", ttl.GrantedTTL, ttl.Keys)
	}
	leases, err := client.Leases(ctx)
	if err != nil {
		return err
	}
	found := false
	for _, lease := range leases.Leases {
		found = found || lease.ID == grant.ID
	}
	if !found {
		return fmt.Errorf("the lease list lacks %d", grant.ID)
	}
	if _, err := client.Revoke(ctx, grant.ID); err != nil {
		return err
	}
	gone, err := client.Get(ctx, ns+"leased")
	if err != nil {
		return err
	}
	if len(gone.Kvs) != 0 {
		return fmt.Errorf("the leased key outlived its revoke")
	}
	if _, err := client.KeepAliveOnce(ctx, grant.ID); err == nil {
		return fmt.Errorf("a keepalive of a revoked lease succeeded")
	}
	return nil
}

// mutexExcludes: etcd's own lock recipe (a session lease, a create-revision queue, a watch on
// the holder ahead) must make a second locker wait until the first unlocks.
func mutexExcludes(client *clientv3.Client) error {
	first, err := concurrency.NewSession(client, concurrency.WithTTL(10))
	if err != nil {
		return err
	}
	defer first.Close()
	second, err := concurrency.NewSession(client, concurrency.WithTTL(10))
	if err != nil {
		return err
	}
	defer second.Close()
	ctx, cancel := timeout()
	defer cancel()
	held := concurrency.NewMutex(first, ns+"lock")
	if err := held.Lock(ctx); err != nil {
		return err
	}
	waiting := concurrency.NewMutex(second, ns+"lock")
	acquired := make(chan error, 1)
	go func() { acquired <- waiting.Lock(ctx) }()
	select {
	case err := <-acquired:
		return fmt.Errorf("the second locker got the lock while it was held (%v)", err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := held.Unlock(ctx); err != nil {
		return err
	}
	if err := <-acquired; err != nil {
		return fmt.Errorf("the second locker after the unlock: %v", err)
	}
	return waiting.Unlock(ctx)
}

// electionHandsOver: etcd's election recipe: the first campaigner leads, a second waits, and
// takes over when the first resigns; observers read the leader's proclaimed value.
func electionHandsOver(client *clientv3.Client) error {
	first, err := concurrency.NewSession(client, concurrency.WithTTL(10))
	if err != nil {
		return err
	}
	defer first.Close()
	second, err := concurrency.NewSession(client, concurrency.WithTTL(10))
	if err != nil {
		return err
	}
	defer second.Close()
	ctx, cancel := timeout()
	defer cancel()
	one := concurrency.NewElection(first, ns+"election")
	if err := one.Campaign(ctx, "one"); err != nil {
		return err
	}
	two := concurrency.NewElection(second, ns+"election")
	elected := make(chan error, 1)
	go func() { elected <- two.Campaign(ctx, "two") }()
	leader, err := one.Leader(ctx)
	if err != nil {
		return err
	}
	if string(leader.Kvs[0].Value) != "one" {
		return fmt.Errorf("the leader is %q while the first campaigner leads", leader.Kvs[0].Value)
	}
	select {
	case err := <-elected:
		return fmt.Errorf("the second campaigner won while the first led (%v)", err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := one.Resign(ctx); err != nil {
		return err
	}
	if err := <-elected; err != nil {
		return fmt.Errorf("the second campaigner after the resignation: %v", err)
	}
	now, err := two.Leader(ctx)
	if err != nil {
		return err
	}
	if string(now.Kvs[0].Value) != "two" {
		return fmt.Errorf("after the hand-over the leader is %q", now.Kvs[0].Value)
	}
	return two.Resign(ctx)
}

func membersAndStatus(client *clientv3.Client) error {
	ctx, cancel := timeout()
	defer cancel()
	members, err := client.MemberList(ctx)
	if err != nil {
		return err
	}
	if len(members.Members) != *memberCount {
		return fmt.Errorf("%d members, want %d", len(members.Members), *memberCount)
	}
	leaders := map[uint64]bool{}
	for _, endpoint := range client.Endpoints() {
		status, err := client.Status(ctx, endpoint)
		if err != nil {
			return fmt.Errorf("status of %s: %v", endpoint, err)
		}
		leaders[status.Leader] = true
	}
	if len(leaders) != 1 {
		return fmt.Errorf("the members name %d different leaders", len(leaders))
	}
	return nil
}

func runWrites(client *clientv3.Client, prefix string, count int) {
	for i := 0; i < count; i++ {
		key := fmt.Sprintf("%s%03d", prefix, i)
		ctx, cancel := timeout()
		_, err := client.Put(ctx, key, fmt.Sprintf("v%d", i))
		cancel()
		if err != nil {
			fmt.Printf("failed %s: %v\n", key, err)
			continue
		}
		fmt.Printf("acked %s\n", key)
	}
}

func runRead(client *clientv3.Client, prefix string) error {
	ctx, cancel := timeout()
	defer cancel()
	got, err := client.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return err
	}
	for _, kv := range got.Kvs {
		fmt.Printf("%s %s\n", kv.Key, kv.Value)
	}
	return nil
}
