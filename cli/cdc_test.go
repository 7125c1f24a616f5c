package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/soomcare/soomcare/cdc"
)

// The worker's results map to the exit codes that `soomcare cdc --help`
// documents; a failed final save is never "0, checkpoint saved".
func TestCDCExitCodes(t *testing.T) {
	cases := []struct {
		err  error
		code int
	}{
		{nil, ExitOK},
		{fmt.Errorf("%w: checkpoint binlog.000001:4", cdc.ErrBinlogPurged), ExitBinlogPurged},
		{fmt.Errorf("%w: posts", cdc.ErrTableDropped), ExitTableDropped},
		{fmt.Errorf("%w: save checkpoint: connection refused", cdc.ErrShutdownSave), ExitNotSaved},
		{errors.New("engine unreachable"), ExitFailure},
	}
	for _, tc := range cases {
		if code := exitCode(cdcExit(tc.err)); code != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.err, code, tc.code)
		}
	}
}
