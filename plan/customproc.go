package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing/fstest"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/permsets/permsets/config"
)

// Custom rules are untrusted code, and OPA has no memory limit of its own: a rule that doubles a
// string with concat reaches gigabytes in seconds, and a single call of a built-in
// (strings.repeat, numbers.range, replace with an empty pattern, json.marshal of a value that
// shares its parts) can allocate more than a heap sampler in the same process would see in
// time. Compiling is not bounded either: OPA's compiler takes no context. So plan loads (parses,
// compiles) and evaluates each revision's custom rules in a child process, the same executable
// started with customChildArg and customChildEnv, under a hard memory limit (RLIMIT_DATA on
// Linux; a heap watchdog besides, and alone elsewhere) and a kill timer of customTimeout that
// covers compiling and evaluating. Whatever the rules do, the parent's memory does not grow, and
// a rule over a limit is an error naming its file and rule: the plan fails closed.

const (
	// customChildArg is the only argument of the child process.
	customChildArg = "__permsets-custom-rules"
	// customChildEnv carries the child's memory limit in bytes.
	customChildEnv = "PERMSETS_CUSTOM_RULES_CHILD"
	// customProgress starts the lines the child writes to stderr to say what it is doing.
	customProgress = "permsets-custom-rules: "
	// customMaxOutput bounds what the parent reads of the child's stdout (the findings) and
	// stderr.
	customMaxOutput = 16 << 20
)

var (
	// customMaxMemory is the memory custom rules may use besides the documents they read.
	customMaxMemory int64 = 512 << 20
	// customMemoryPerByte is what the child may use besides, per byte of its request: the
	// plan's data document and input, which the child holds decoded, as the parent does.
	customMemoryPerByte int64 = 16
)

// CustomRulesChild runs this process as the evaluator of custom rules when plan started it as
// one (with an argument and an environment variable that say so) and reports whether it did;
// the caller then exits with code. Every program that computes plans calls it first thing in
// main (permsctl does, and so do this module's test binaries); in a program that does not, the
// child fails and so does the plan.
func CustomRulesChild() (code int, ok bool) {
	v := os.Getenv(customChildEnv)
	if len(os.Args) != 2 || os.Args[1] != customChildArg || v == "" {
		return 0, false
	}
	limit, err := strconv.ParseInt(v, 10, 64)
	if err != nil || limit <= 0 {
		fmt.Fprintf(os.Stderr, "%sbad memory limit %q\n", customProgress, v)
		return 2, true
	}
	return runCustomChild(limit, os.Stdin, os.Stdout, os.Stderr), true
}

// customRequest is what the parent sends the child on stdin, as JSON.
type customRequest struct {
	Label string         `json:"label"`
	Files []customSource `json:"files"`
	Data  any            `json:"data"`
	Input any            `json:"input"`
}

type customSource struct {
	Name string `json:"name"`
	Src  string `json:"src"`
}

// customResponse is what the child answers on stdout: findings, or the error of loading or
// judging (already worded, with its file and line).
type customResponse struct {
	Deny  []Finding `json:"deny"`
	Warn  []Finding `json:"warn"`
	Error string    `json:"error,omitempty"`
}

// judgeCustom loads the custom rules under policies/ of fsys and judges the plan with them
// (data and input as for Judge), in a child process. The files are read here, with the limits
// of LoadCustomRules; parsing, compiling and evaluating happen in the child.
func judgeCustom(ctx context.Context, fsys fs.FS, label string, data any, input ast.Value) (deny, warn []Finding, err error) {
	c := &CustomRules{label: label}
	names, err := customFiles(fsys)
	if err != nil {
		return nil, nil, c.errorf("%w", err)
	}
	if len(names) == 0 {
		return []Finding{}, []Finding{}, nil
	}
	req := customRequest{Label: label, Data: data}
	total := 0
	for _, name := range names {
		src, err := customRead(fsys, name)
		if err != nil {
			return nil, nil, c.errorf("%w", err)
		}
		if total += len(src); total > customMaxTotalSize {
			return nil, nil, c.errorf("%s: the custom rules files up to this one hold %d bytes, over the %d-byte (1 MiB) limit for all of them", name, total, customMaxTotalSize)
		}
		req.Files = append(req.Files, customSource{Name: name, Src: string(src)})
	}
	if input != nil {
		if req.Input, err = ast.JSON(input); err != nil {
			return nil, nil, c.errorf("input: %w", err)
		}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, nil, c.errorf("%w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, c.errorf("cannot start the process that evaluates them: %w", err)
	}
	limit := customMaxMemory + customMemoryPerByte*int64(len(body))

	runCtx, cancel := context.WithTimeout(ctx, customTimeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, exe, customChildArg)
	cmd.Env = append(os.Environ(), customChildEnv+"="+strconv.FormatInt(limit, 10))
	cmd.Stdin = bytes.NewReader(body)
	stdout, stderr := &capped{max: customMaxOutput}, &capped{max: customMaxOutput}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = time.Second
	runErr := cmd.Run()

	where := customWhere(stderr.String(), names)
	switch {
	case ctx.Err() != nil:
		return nil, nil, c.errorf("%s: stopped: %w", where, ctx.Err())
	case runCtx.Err() != nil:
		return nil, nil, c.errorf("%s: stopped after the %s limit for compiling and evaluating custom rules: %w", where, customTimeout, runCtx.Err())
	case runErr != nil && customOutOfMemory(stderr.String(), cmd.ProcessState, limit):
		return nil, nil, c.errorf("%s: memory limit of %d MiB exceeded", where, limit>>20)
	case stdout.over:
		return nil, nil, c.errorf("%s: the findings are over %d MiB", where, customMaxOutput>>20)
	case runErr != nil:
		return nil, nil, c.errorf("%s: the process evaluating them failed (%v): %s", where, runErr, customTail(stderr.String()))
	}
	var resp customResponse
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		return nil, nil, c.errorf("%s: unreadable answer of the process evaluating them: %v", where, err)
	}
	if resp.Error != "" {
		return nil, nil, errors.New(resp.Error)
	}
	if resp.Deny == nil {
		resp.Deny = []Finding{}
	}
	if resp.Warn == nil {
		resp.Warn = []Finding{}
	}
	return resp.Deny, resp.Warn, nil
}

// customWhere says what the child was doing when it stopped, from its progress lines: the file
// and rule it was evaluating, or the files it was compiling.
func customWhere(stderr string, names []string) string {
	last := ""
	for _, line := range strings.Split(stderr, "\n") {
		if rest, ok := strings.CutPrefix(line, customProgress); ok && (rest == "compile" || strings.HasPrefix(rest, "eval ")) {
			last = rest
		}
	}
	if rest, ok := strings.CutPrefix(last, "eval "); ok {
		if file, ref, ok := strings.Cut(rest, " "); ok {
			return file + ": " + ref
		}
	}
	if len(names) == 1 {
		return names[0]
	}
	return fmt.Sprintf("%s/ (%d files)", config.PoliciesDir, len(names))
}

// customOutOfMemory says whether the child stopped for its memory limit: its watchdog's
// message, the Go runtime's when an allocation fails under the hard limit, or a crash (the
// runtime does not always fail cleanly when a mapping is refused) after the child grew to a
// quarter of the limit or more.
func customOutOfMemory(stderr string, ps *os.ProcessState, limit int64) bool {
	if strings.Contains(stderr, customProgress+"out of memory") || strings.Contains(stderr, "fatal error: out of memory") ||
		strings.Contains(stderr, "runtime: out of memory") || strings.Contains(stderr, "cannot allocate memory") {
		return true
	}
	return ps != nil && !ps.Success() && peakMemory(ps) >= limit/4
}

// customTail is the last non-progress line of the child's stderr, for an unexpected failure.
func customTail(stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, customProgress) {
			return l
		}
	}
	return "no message"
}

// capped is a buffer that keeps the first max bytes written to it and notes that there were
// more.
type capped struct {
	bytes.Buffer
	max  int
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); len(p) > room {
		c.over = true
		c.Buffer.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return c.Buffer.Write(p)
}

// runCustomChild is the child: it limits its own memory, reads the request, loads and judges,
// and answers. Progress lines go to stderr before each step, so that the parent can say where a
// limit was hit.
func runCustomChild(limit int64, stdin io.Reader, stdout, stderr io.Writer) int {
	if err := limitMemory(limit); err != nil {
		fmt.Fprintf(stderr, "%scannot limit memory: %v\n", customProgress, err)
		return 2
	}
	debug.SetMemoryLimit(limit)
	go customWatchdog(limit, stderr)
	var req customRequest
	dec := json.NewDecoder(stdin)
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		fmt.Fprintf(stderr, "%sreading the request: %v\n", customProgress, err)
		return 2
	}
	answer := func(resp customResponse) int {
		if err := json.NewEncoder(stdout).Encode(resp); err != nil {
			fmt.Fprintf(stderr, "%swriting the answer: %v\n", customProgress, err)
			return 2
		}
		return 0
	}
	fsys := fstest.MapFS{}
	for _, f := range req.Files {
		fsys[f.Name] = &fstest.MapFile{Data: []byte(f.Src), Mode: 0o644}
	}
	fmt.Fprintf(stderr, "%scompile\n", customProgress)
	c, err := LoadCustomRules(fsys, req.Label)
	if err != nil {
		return answer(customResponse{Error: err.Error()})
	}
	c.onEval = func(q customQuery) { fmt.Fprintf(stderr, "%seval %s %s\n", customProgress, q.file, q.ref) }
	var input ast.Value
	if req.Input != nil {
		if input, err = ast.InterfaceToValue(req.Input); err != nil {
			return answer(customResponse{Error: c.errorf("input: %v", err).Error()})
		}
	}
	deny, warn, err := c.Judge(context.Background(), req.Data, input)
	if err != nil {
		return answer(customResponse{Error: err.Error()})
	}
	return answer(customResponse{Deny: deny, Warn: warn})
}

// customWatchdog ends the child when its heap grows over limit, with a clear message. It
// samples every few milliseconds, so one built-in call may overshoot; the hard limit
// (limitMemory, higher) does not.
func customWatchdog(limit int64, stderr io.Writer) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	for range time.Tick(5 * time.Millisecond) {
		metrics.Read(sample)
		if used := sample[0].Value.Uint64(); used > uint64(limit) {
			fmt.Fprintf(stderr, "%sout of memory: %d MiB of heap\n", customProgress, used>>20)
			os.Exit(3)
		}
	}
}
