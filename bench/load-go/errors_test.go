package main

import (
	"fmt"
	"testing"
)

func TestErrorKindsAreBounded(t *testing.T) {
	e := errorCounts{}
	for status := 0; status < 100; status++ {
		e.add(fmt.Sprintf("http_%d", 400+status), 2)
	}
	if len(e) != maxErrorKinds {
		t.Fatalf("%d kinds, want at most %d", len(e), maxErrorKinds)
	}
	if e.total() != 200 {
		t.Fatalf("total %d, want every failure counted (200)", e.total())
	}
	if e["other"] != 2*(100-(maxErrorKinds-1)) {
		t.Fatalf("other = %d", e["other"])
	}
}
