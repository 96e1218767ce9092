package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes the report as indented JSON (schemas/audit.schema.json), the same document
// json.Encoder with a two-space indent writes, one instance at a time: a large repository's
// report is hundreds of megabytes, and is never held whole in memory.
func WriteJSON(w io.Writer, r *Report) error {
	head := *r
	head.Instances = []*Instance{}
	data, err := json.MarshalIndent(&head, "", "  ")
	if err != nil {
		return err
	}
	// The document ends with the empty list of instances, the last field: the instances go there.
	const tail = "\"instances\": []\n}"
	if !bytes.HasSuffix(data, []byte(tail)) {
		return fmt.Errorf("audit report: unexpected JSON layout")
	}
	b := bufio.NewWriterSize(w, 1<<16)
	b.Write(data[:len(data)-len(tail)])
	if len(r.Instances) == 0 {
		b.WriteString("\"instances\": []\n}\n")
		return b.Flush()
	}
	b.WriteString("\"instances\": [\n")
	for i, in := range r.Instances {
		data, err := json.MarshalIndent(in, "    ", "  ")
		if err != nil {
			return err
		}
		b.WriteString("    ")
		b.Write(data)
		if i < len(r.Instances)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("  ]\n}\n")
	return b.Flush()
}
