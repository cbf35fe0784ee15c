package score

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"

	"github.com/saqshy/saqshy/gateway/internal/testenv"
	"github.com/saqshy/saqshy/gateway/telemetry"
)

// TestReadDays writes day points as the check makes them into a real InfluxDB 1.8
// and reads them back with Flux.
func TestReadDays(t *testing.T) {
	in := testenv.StartInflux(t, "export")
	client := influxdb2.NewClient(in.URL(), "")
	defer client.Close()
	w := client.WriteAPIBlocking("", in.Bucket())
	write := func(centre string, ev telemetry.Event) {
		t.Helper()
		p := influxdb2.NewPointWithMeasurement(ev.Point.Measurement).SetTime(ev.Time).AddTag("centre", centre)
		for _, tg := range ev.Point.Tags {
			p.AddTag(tg.Key, tg.Value)
		}
		for _, f := range ev.Point.Fields {
			p.AddField(f.Key, f.Value())
		}
		if err := w.WritePoint(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	full := [NumComponents]Part{}
	for i := range full {
		full[i] = Part{Applicable: true, Known: true, Ratio: 0.5 + float64(i)/10}
	}
	noCam := full
	noCam[CompCoverage] = Part{}
	write("c1", Compute(DefaultWeights, full, nil, true).Point(at(0, 0, 0), "day", "2025.1"))
	write("c1", Compute(DefaultWeights, noCam, []string{CapScald, CapFreeze}, true).Point(at(1, 0, 0), "day", "2025.1"))
	write("c1", Compute(DefaultWeights, full, nil, true).Point(at(2, 0, 0), "day", "2025.1")) // outside the range
	write("c1", Compute(DefaultWeights, full, nil, true).Point(at(1, 12, 0), "live", "2025.1"))
	write("c2", Compute(DefaultWeights, full, nil, true).Point(at(1, 0, 0), "day", "2025.1"))

	rows, err := ReadDays(t.Context(), client.QueryAPI(""), in.Bucket(), "c1", almaty, at(0, 0, 0), at(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Date != "2025-03-10" || rows[1].Date != "2025-03-11" {
		t.Fatalf("rows %+v", rows)
	}
	r0, r1 := rows[0], rows[1]
	if !near(r0.Total, Compute(DefaultWeights, full, nil, true).Total) || r0.Capped || len(r0.Caps) != 0 || r0.WeightsVersion != "2025.1" ||
		r0.Components["response"] == nil || !near(*r0.Components["response"], 0.9) {
		t.Errorf("day 0: %+v", r0)
	}
	if r1.Components["coverage"] != nil || !r1.Capped || strings.Join(r1.Caps, ",") != "med_fridge_freeze,scald" {
		t.Errorf("day 1: %+v", r1)
	}
	var csvOut, jsonOut bytes.Buffer
	if err := WriteCSV(&csvOut, rows); err != nil {
		t.Fatal(err)
	}
	wantCSV := "date,total,temperature,availability,coverage,rounds,response,caps,capped,weights_version\n" +
		"2025-03-10,65.5,0.5,0.6,0.7,0.8,0.9,,false,2025.1\n" +
		"2025-03-11,64.375,0.5,0.6,,0.8,0.9,\"med_fridge_freeze,scald\",true,2025.1\n"
	if csvOut.String() != wantCSV {
		t.Errorf("csv:\n%s\nwant:\n%s", csvOut.String(), wantCSV)
	}
	if err := WriteJSON(&jsonOut, rows); err != nil {
		t.Fatal(err)
	}
	var back []DayRow
	if err := json.Unmarshal(jsonOut.Bytes(), &back); err != nil || len(back) != 2 || back[1].Components["coverage"] != nil {
		t.Errorf("json %s: %v", jsonOut.String(), err)
	}

	// A bucket that does not exist is an error naming it.
	_, err = ReadDays(t.Context(), client.QueryAPI(""), "nope/autogen", "c1", almaty, at(0, 0, 0), at(1, 0, 0))
	if err == nil || !strings.Contains(err.Error(), "nope/autogen") {
		t.Errorf("missing bucket: %v", err)
	}
}
