package main

import (
	"math/bits"
	"time"
)

// histogram records latencies in microseconds in log-linear buckets (the HDR histogram's
// layout): exact below 2^subBucketBits µs, and above that 2^(subBucketBits-1) buckets per
// power of two, so a reported percentile is within 1/128 (0.8%) of the true value. Its size is
// fixed whatever the run's length: each client owns one and the run merges them at the end.
const subBucketBits = 8

const (
	subBucketCount = 1 << subBucketBits
	subBucketHalf  = subBucketCount / 2
	// One linear range, then one half range for every shift a 64-bit value can need.
	bucketCount = subBucketCount + (64-subBucketBits)*subBucketHalf
)

type histogram struct {
	counts [bucketCount]uint64
	total  uint64
}

func bucketOf(us uint64) int {
	if us < subBucketCount {
		return int(us)
	}
	shift := bits.Len64(us) - subBucketBits
	top := us >> uint(shift) // in [subBucketHalf, subBucketCount)
	return subBucketCount + (shift-1)*subBucketHalf + int(top-subBucketHalf)
}

// highestIn is the largest value that lands in bucket index: a percentile is reported as the
// bucket's upper edge, so it never understates a latency.
func highestIn(index int) uint64 {
	if index < subBucketCount {
		return uint64(index)
	}
	shift := uint((index-subBucketCount)/subBucketHalf + 1)
	top := uint64((index-subBucketCount)%subBucketHalf + subBucketHalf)
	return (top+1)<<shift - 1
}

func (h *histogram) record(latency time.Duration) {
	us := latency.Microseconds()
	if us < 0 {
		us = 0
	}
	h.counts[bucketOf(uint64(us))]++
	h.total++
}

func (h *histogram) merge(other *histogram) {
	for index, count := range other.counts {
		h.counts[index] += count
	}
	h.total += other.total
}

// percentileUs is the smallest recorded bucket edge at or below which `percent` of the
// samples lie; 0 for an empty histogram.
func (h *histogram) percentileUs(percent float64) uint64 {
	if h.total == 0 {
		return 0
	}
	rank := uint64(percent / 100 * float64(h.total))
	if float64(rank) < percent/100*float64(h.total) {
		rank++ // ceil: the p99 of 10 samples is the 10th, not the 9th
	}
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for index, count := range h.counts {
		seen += count
		if seen >= rank {
			return highestIn(index)
		}
	}
	panic("histogram: total exceeds the sum of its buckets")
}
