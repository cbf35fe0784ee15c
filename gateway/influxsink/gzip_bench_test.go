package influxsink

import (
	"bytes"
	stdgzip "compress/gzip"
	"fmt"
	"io"
	"testing"

	kpgzip "github.com/klauspost/compress/gzip"
)

// BenchmarkCompress: the request body compressors considered for the writer, on
// one default-size batch (5000 events) and on a live trickle's batch (10 events):
// the standard library's gzip and klauspost/compress's, at the levels that matter
// (bytes per point reported beside the time).
func BenchmarkCompress(b *testing.B) {
	type zw interface {
		io.WriteCloser
		Reset(io.Writer)
	}
	for _, n := range []int{5000, 10} {
		enc := encoder{centre: "shymkent-csu-2"}
		body := []byte(enc.encode(zigbeeEvents(n)).body())
		points := bytes.Count(body, []byte{'\n'})
		for _, c := range []struct {
			name string
			new  func() zw
		}{
			{"std-2", func() zw { w, _ := stdgzip.NewWriterLevel(io.Discard, 2); return w }},
			{"std-1", func() zw { w, _ := stdgzip.NewWriterLevel(io.Discard, 1); return w }},
			{"klauspost-1", func() zw { w, _ := kpgzip.NewWriterLevel(io.Discard, 1); return w }},
			{"klauspost-2", func() zw { w, _ := kpgzip.NewWriterLevel(io.Discard, 2); return w }},
			{"klauspost-3", func() zw { w, _ := kpgzip.NewWriterLevel(io.Discard, 3); return w }},
			{"klauspost-4", func() zw { w, _ := kpgzip.NewWriterLevel(io.Discard, 4); return w }},
			{"klauspost-5", func() zw { w, _ := kpgzip.NewWriterLevel(io.Discard, 5); return w }},
		} {
			b.Run(fmt.Sprintf("points=%d/%s", points, c.name), func(b *testing.B) {
				w := c.new()
				var out bytes.Buffer
				for b.Loop() {
					out.Reset()
					w.Reset(&out)
					w.Write(body)
					w.Close()
				}
				b.ReportMetric(float64(out.Len())/float64(points), "bytes/point")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(points), "ns/point")
			})
		}
	}
}
