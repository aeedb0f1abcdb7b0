// Reads a dcgm-exporter counters file exactly as dcgm-exporter 4.5.3-4.8.2 does, with Go's own encoding/csv, and
// prints the records it would collect as JSON; exits 1 with dcgm-exporter's error otherwise.
//
// NVIDIA/dcgm-exporter@4.5.3-4.8.2 internal/pkg/counters/counter_config.go:
//   - ReadCSVFile: csv.NewReader(file), r.Comment = '#', r.ReadAll() (every other csv.Reader setting at its default:
//     Comma ',', FieldsPerRecord 0 = the first record's count, LazyQuotes false, TrimLeadingSpace false);
//   - ExtractCounters: each field trimmed of spaces (strings.Trim(r, " ")), then exactly 3 fields, and a Prometheus
//     type among internal/pkg/counters/variables.go promMetricType (gauge, counter, histogram, summary, label).
//
// The DCGM field name itself is checked by the test against go-dcgm's field table; this program needs no DCGM.
// pkg/cmd/app.go getCounters ends the process (os.Exit(1)) on any of these errors.
package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

var promMetricType = map[string]bool{"gauge": true, "counter": true, "histogram": true, "summary": true, "label": true}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dcgm-counters-reader <counters.csv>")
		os.Exit(2)
	}
	file, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer file.Close()
	r := csv.NewReader(file)
	r.Comment = '#'
	records, err := r.ReadAll()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Could not read metrics file '%s'; err: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	out := [][]string{}
	for i, record := range records {
		if len(record) == 0 {
			continue
		}
		for j, f := range record {
			record[j] = strings.Trim(f, " ")
		}
		if len(record) != 3 {
			fmt.Fprintf(os.Stderr, "malformed CSV record; err: failed to parse line %d (`%v`), expected 3 fields\n", i, record)
			os.Exit(1)
		}
		if !promMetricType[record[1]] {
			fmt.Fprintf(os.Stderr, "could not find Prometheus metric type '%s'\n", record[1])
			os.Exit(1)
		}
		out = append(out, record)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
