package cli

import (
	"testing"
	"time"

	"github.com/soomcare/soomcare/bench"
)

func TestParseSweep(t *testing.T) {
	tests := []struct {
		in      []string
		want    []bench.CDCSetting
		wantErr bool
	}{
		{[]string{"2000/50ms", "500/1s"}, []bench.CDCSetting{{Batch: 2000, Flush: 50 * time.Millisecond}, {Batch: 500, Flush: time.Second}}, false},
		{[]string{"2000"}, nil, true},
		{[]string{"0/50ms"}, nil, true},
		{[]string{"50001/50ms"}, nil, true},
		{[]string{"2000/0s"}, nil, true},
		{[]string{"2000/2m"}, nil, true},
		{[]string{"x/50ms"}, nil, true},
		{make([]string, 13), nil, true},
	}
	for _, tt := range tests {
		got, err := parseSweep(tt.in)
		if (err != nil) != tt.wantErr {
			t.Fatalf("parseSweep(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
		}
		if len(got) != len(tt.want) {
			t.Fatalf("parseSweep(%q) = %v, want %v", tt.in, got, tt.want)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Fatalf("parseSweep(%q) = %v, want %v", tt.in, got, tt.want)
			}
		}
	}
}

func TestCheckSizes(t *testing.T) {
	tests := []struct {
		sizes   []int
		wantErr bool
	}{
		{[]int{10000, 100000}, false},
		{[]int{999}, true},
		{[]int{2_000_001}, true},
		{[]int{1000, 1000, 1000, 1000, 1000, 1000, 1000}, true},
	}
	for _, tt := range tests {
		if err := checkSizes(tt.sizes, 1000, 2_000_000); (err != nil) != tt.wantErr {
			t.Errorf("checkSizes(%v) = %v, want error %v", tt.sizes, err, tt.wantErr)
		}
	}
}
