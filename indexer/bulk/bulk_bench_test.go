package bulk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/internal/testenv"
)

// BenchmarkBulkWriter writes 20k small documents per iteration to the real
// OpenSearch node (integration only) and reports documents per second. Each
// iteration uses a higher version, so every op is a real update, not a
// conflict.
func BenchmarkBulkWriter(b *testing.B) {
	c := bulkEngineClient(b, config.EngineOpenSearch, testenv.OpenSearchURL(b))
	index := bulkTempIndex(b, c)
	w := bulk.NewWriter(c.ES, bulk.Options{}, nil)
	const n = 20_000
	ops := make([]bulk.Op, n)
	for i := range ops {
		ops[i] = bulk.Op{Action: bulk.ActionIndex, Index: index, ID: strconv.Itoa(i + 1),
			Doc: json.RawMessage(fmt.Sprintf(`{"n":%d,"title":"천식 흡입기 사용 기록 %d"}`, i, i))}
	}
	ctx := context.Background()
	docs := 0
	version := int64(0)
	for b.Loop() {
		version++
		for i := range ops {
			ops[i].Version = version
		}
		res, err := w.Write(ctx, ops)
		if err != nil {
			b.Fatal(err)
		}
		if res.Indexed != n {
			b.Fatalf("result = %d indexed, %d failed", res.Indexed, len(res.Failed))
		}
		docs += n
	}
	b.ReportMetric(float64(docs)/b.Elapsed().Seconds(), "docs/s")
}
