package main

import (
	"testing"
	"time"
)

func TestBucketEdgesRoundTrip(t *testing.T) {
	for _, us := range []uint64{0, 1, 255, 256, 257, 511, 512, 1000, 12345, 1 << 40, 1<<63 + 12345} {
		index := bucketOf(us)
		if index < 0 || index >= bucketCount {
			t.Fatalf("%d µs: bucket %d outside [0, %d)", us, index, bucketCount)
		}
		high := highestIn(index)
		if high < us {
			t.Fatalf("%d µs: bucket %d's upper edge %d is below it", us, index, high)
		}
		if index > 0 && highestIn(index-1) >= us {
			t.Fatalf("%d µs: the bucket below, %d, already reaches %d", us, index-1, highestIn(index-1))
		}
		if float64(high-us) > float64(us)/128+1 {
			t.Fatalf("%d µs: upper edge %d is more than 1/128 above it", us, high)
		}
	}
}

func TestPercentilesOfAKnownSpread(t *testing.T) {
	var h histogram
	// 1..1000 ms, one sample each: p50 is 500 ms, p99 990 ms, p99.9 999 ms (to 0.8%).
	for ms := 1; ms <= 1000; ms++ {
		h.record(time.Duration(ms) * time.Millisecond)
	}
	for _, c := range []struct {
		percent float64
		wantUs  uint64
	}{{50, 500_000}, {99, 990_000}, {99.9, 999_000}, {100, 1_000_000}} {
		got := h.percentileUs(c.percent)
		if got < c.wantUs || float64(got-c.wantUs) > float64(c.wantUs)/128 {
			t.Errorf("p%v = %d µs, want %d µs within 0.8%%", c.percent, got, c.wantUs)
		}
	}
}

func TestMergeAddsCounts(t *testing.T) {
	var a, b histogram
	for i := 0; i < 99; i++ {
		a.record(time.Millisecond)
	}
	b.record(time.Second)
	a.merge(&b)
	if a.total != 100 {
		t.Fatalf("total %d, want 100", a.total)
	}
	if p := a.percentileUs(99); p > 1_010 {
		t.Errorf("p99 %d µs, want about 1000 (99 of 100 samples are 1 ms)", p)
	}
	if p := a.percentileUs(100); p < 1_000_000 {
		t.Errorf("p100 %d µs, want the merged 1 s sample", p)
	}
}

func TestEmptyHistogramReportsZero(t *testing.T) {
	var h histogram
	if p := h.percentileUs(99); p != 0 {
		t.Fatalf("empty p99 = %d", p)
	}
}
