package indexer

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/soomcare/soomcare/mysql"
)

// Documents carry an external version derived from the binlog position of the
// change they reflect (invariant 2), written with version_type=external_gte:
// a replayed or older event can never overwrite a newer document.
//
// Version = binlog file sequence number << 32 | offset in that file. Offsets are
// below 4 GiB (max_binlog_size ≤ 1 GiB) and sequence numbers grow by one per
// rotation, so the mapping is monotonic along the binlog.

// VersionOf maps a position to its external version.
func VersionOf(p mysql.Position) (int64, error) {
	i := strings.LastIndexByte(p.File, '.')
	if i < 0 || i == len(p.File)-1 {
		return 0, fmt.Errorf("binlog file name %q has no sequence suffix", p.File)
	}
	seq, err := strconv.ParseUint(p.File[i+1:], 10, 31)
	if err != nil {
		return 0, fmt.Errorf("binlog file name %q: %w", p.File, err)
	}
	return int64(seq)<<32 | int64(p.Pos), nil
}
