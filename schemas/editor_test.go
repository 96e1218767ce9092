package schemas_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/permsets/permsets/internal/testutil"
)

// TestYAMLLanguageServer drives the real yaml-language-server (pinned in
// testdata/yaml-language-server, installed from npm) over stdio, as an editor does, on files of
// examples/nation whose modelines point at this repository's schemas/: a good file has no
// diagnostics, a broken one gets the schema's (a permission without '=', a date that is not a
// date-time, an unknown field), and completion and hover offer the schema's fields and
// descriptions.
func TestYAMLLanguageServer(t *testing.T) {
	dir := testutil.NPMInstall(t, "testdata/yaml-language-server", "yaml-language-server", "node_modules/yaml-language-server/package.json")
	ls := startLanguageServer(t, filepath.Join(dir, "node_modules", "yaml-language-server", "bin", "yaml-language-server"))
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	ls.initialize(fileURI(root))

	good := filepath.Join(root, "examples", "nation", "sets", "campaign", "finance.yaml")
	text, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if diags := ls.open(fileURI(good), string(text)); len(diags) != 0 {
		t.Errorf("%s: diagnostics on a valid example: %v", good, diags)
	}

	broken := filepath.Join(root, "examples", "nation", "sets", "campaign", "broken.yaml") // never written: the editor's buffer
	brokenText := `# yaml-language-server: $schema=../../../../schemas/permissionset.schema.json
apiVersion: permsets/v1
kind: PermissionSet
id: broken
instances: [campaign]
name: Broken
permissions: ["finances export", "=export", finances=read]
colour: blue
---
# yaml-language-server: $schema=../../../../schemas/assignment.schema.json
apiVersion: permsets/v1
kind: Assignment
id: broken
instance: campaign
users: [sam]
permissionSets: [broken]
expires: tomorrow
`
	diags := ls.open(fileURI(broken), brokenText)
	want := map[string]int{ // what each flagged line holds
		"pattern": 6, "colour": 7, "date-time": 16,
	}
	lines := map[int][]string{}
	for _, d := range diags {
		lines[d.Range.Start.Line] = append(lines[d.Range.Start.Line], d.Message)
	}
	for what, line := range want {
		if !strings.Contains(strings.ToLower(strings.Join(lines[line], " ")), strings.ToLower(what)) {
			t.Errorf("no diagnostic for %s on line %d; got %v", what, line+1, diags)
		}
	}
	t.Logf("diagnostics of the broken file: %v", diags)
	if len(lines[5]) != 0 || len(lines[4]) != 0 {
		t.Errorf("diagnostics on valid lines: %v", diags)
	}

	// Completion on a new line of the good file offers the fields it does not have yet.
	withLine := string(text) + "\n"
	ls.change(fileURI(good), withLine)
	last := strings.Count(withLine, "\n")
	labels := ls.completion(fileURI(good), last, 0)
	for _, field := range []string{"enabled", "builtin", "fixed"} {
		if !contains(labels, field) {
			t.Errorf("completion offers %v, want %s among them", labels, field)
		}
	}
	// Hover on a key shows the schema's description of it.
	var nameLine int
	for i, l := range strings.Split(string(text), "\n") {
		if strings.HasPrefix(l, "permissions:") {
			nameLine = i
		}
	}
	if h := ls.hover(fileURI(good), nameLine, 2); !strings.Contains(h, "Permissions the set grants") {
		t.Errorf("hover on permissions: %q", h)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func fileURI(p string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
}

// languageServer is a minimal LSP client over a child's stdio: JSON-RPC with Content-Length
// framing, answering the server's requests for configuration.
type languageServer struct {
	t      *testing.T
	in     io.WriteCloser
	mu     sync.Mutex
	nextID int
	waits  map[int]chan json.RawMessage
	diags  chan publishDiagnostics
	stderr *testutil.SyncBuffer
}

type diagnostic struct {
	Range struct {
		Start struct{ Line, Character int }
	}
	Message string
}

type publishDiagnostics struct {
	URI         string       `json:"uri"`
	Diagnostics []diagnostic `json:"diagnostics"`
}

func startLanguageServer(t *testing.T, bin string) *languageServer {
	cmd := exec.Command("node", bin, "--stdio")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	ls := &languageServer{t: t, in: in, waits: map[int]chan json.RawMessage{}, diags: make(chan publishDiagnostics, 64), stderr: &testutil.SyncBuffer{}}
	cmd.Stderr = ls.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = in.Close()
		_ = cmd.Process.Kill() // by its PID
		_ = cmd.Wait()
	})
	go ls.read(bufio.NewReader(out))
	return ls
}

func (ls *languageServer) write(msg map[string]any) {
	msg["jsonrpc"] = "2.0"
	body, _ := json.Marshal(msg)
	ls.mu.Lock()
	defer ls.mu.Unlock()
	fmt.Fprintf(ls.in, "Content-Length: %d\r\n\r\n%s", len(body), body)
}

func (ls *languageServer) read(r *bufio.Reader) {
	for {
		n := -1
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSpace(line)
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				n, _ = strconv.Atoi(v)
			}
		}
		if n < 0 || n > 64<<20 {
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		var msg struct {
			ID     *json.RawMessage `json:"id"`
			Method string           `json:"method"`
			Params json.RawMessage  `json:"params"`
			Result json.RawMessage  `json:"result"`
		}
		if json.Unmarshal(body, &msg) != nil {
			continue
		}
		switch {
		case msg.Method == "textDocument/publishDiagnostics":
			var p publishDiagnostics
			if json.Unmarshal(msg.Params, &p) == nil {
				ls.diags <- p
			}
		case msg.Method != "" && msg.ID != nil: // a request of the server's
			var result any
			if msg.Method == "workspace/configuration" {
				var p struct{ Items []struct{ Section string } }
				_ = json.Unmarshal(msg.Params, &p)
				items := make([]any, len(p.Items))
				for i, it := range p.Items {
					if it.Section == "yaml" {
						items[i] = yamlSettings
					}
				}
				result = items
			}
			ls.write(map[string]any{"id": msg.ID, "result": result})
		case msg.ID != nil:
			var id int
			_ = json.Unmarshal(*msg.ID, &id)
			ls.mu.Lock()
			ch := ls.waits[id]
			delete(ls.waits, id)
			ls.mu.Unlock()
			if ch != nil {
				ch <- msg.Result
			}
		}
	}
}

var yamlSettings = map[string]any{
	"validate": true, "hover": true, "completion": true,
	"schemaStore": map[string]any{"enable": false},
}

// call sends a request and waits for its result.
func (ls *languageServer) call(method string, params any) json.RawMessage {
	ls.t.Helper()
	ch := make(chan json.RawMessage, 1)
	ls.mu.Lock()
	ls.nextID++
	id := ls.nextID
	ls.waits[id] = ch
	ls.mu.Unlock()
	ls.write(map[string]any{"id": id, "method": method, "params": params})
	select {
	case r := <-ch:
		return r
	case <-time.After(60 * time.Second):
		ls.t.Fatalf("%s: no answer in 60 s; stderr:\n%s", method, ls.stderr.String())
		return nil
	}
}

func (ls *languageServer) notify(method string, params any) {
	ls.write(map[string]any{"method": method, "params": params})
}

func (ls *languageServer) initialize(rootURI string) {
	ls.call("initialize", map[string]any{
		"processId": os.Getpid(), "rootUri": rootURI,
		"capabilities": map[string]any{
			"workspace": map[string]any{"configuration": true},
			"textDocument": map[string]any{
				"publishDiagnostics": map[string]any{},
				"completion":         map[string]any{"completionItem": map[string]any{"snippetSupport": false}},
				"hover":              map[string]any{"contentFormat": []string{"plaintext", "markdown"}},
			},
		},
	})
	ls.notify("initialized", map[string]any{})
	ls.notify("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"yaml": yamlSettings}})
}

var version int

// open opens a document and returns the diagnostics the server publishes for it.
func (ls *languageServer) open(uri, text string) []diagnostic {
	ls.t.Helper()
	version++
	ls.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{
		"uri": uri, "languageId": "yaml", "version": version, "text": text}})
	return ls.diagnosticsOf(uri)
}

func (ls *languageServer) change(uri, text string) {
	ls.t.Helper()
	version++
	ls.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": uri, "version": version},
		"contentChanges": []any{map[string]any{"text": text}}})
	ls.diagnosticsOf(uri)
}

func (ls *languageServer) diagnosticsOf(uri string) []diagnostic {
	ls.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case p := <-ls.diags:
			if p.URI == uri {
				return p.Diagnostics
			}
		case <-deadline:
			ls.t.Fatalf("no diagnostics for %s in 60 s; stderr:\n%s", uri, ls.stderr.String())
		}
	}
}

func (ls *languageServer) completion(uri string, line, char int) []string {
	ls.t.Helper()
	raw := ls.call("textDocument/completion", map[string]any{
		"textDocument": map[string]any{"uri": uri}, "position": map[string]any{"line": line, "character": char}})
	var list struct {
		Items []struct{ Label string }
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		ls.t.Fatalf("completion: %v: %s", err, raw)
	}
	labels := make([]string, len(list.Items))
	for i, it := range list.Items {
		labels[i] = it.Label
	}
	return labels
}

func (ls *languageServer) hover(uri string, line, char int) string {
	ls.t.Helper()
	raw := ls.call("textDocument/hover", map[string]any{
		"textDocument": map[string]any{"uri": uri}, "position": map[string]any{"line": line, "character": char}})
	return string(raw)
}
