package plan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// TestMain lets this test binary serve as the child process that evaluates custom rules.
func TestMain(m *testing.M) {
	if code, ok := CustomRulesChild(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// smallCustomLimits lowers the child's memory limit for a test, so an attack stops early.
func smallCustomLimits(t *testing.T, memory int64) {
	t.Helper()
	m, per := customMaxMemory, customMemoryPerByte
	t.Cleanup(func() { customMaxMemory, customMemoryPerByte = m, per })
	customMaxMemory, customMemoryPerByte = memory, 0
}

// TestJudgeCustomInChild: rules judged in the child give what Judge gives in process.
func TestJudgeCustomInChild(t *testing.T) {
	data, input := customDoc(t)
	for _, name := range []string{"deny", "warn"} {
		fsys := os.DirFS(filepath.Join("testdata", "custom", name))
		c, err := LoadCustomRules(fsys, "head")
		if err != nil {
			t.Fatal(err)
		}
		wantDeny, wantWarn, err := c.Judge(context.Background(), data, input)
		if err != nil {
			t.Fatal(err)
		}
		deny, warn, err := judgeCustom(context.Background(), fsys, "head", data, input)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(deny, wantDeny) || !reflect.DeepEqual(warn, wantWarn) {
			t.Errorf("%s: in the child deny %+v warn %+v\nin process deny %+v warn %+v", name, deny, warn, wantDeny, wantWarn)
		}
	}
	// A load error comes back as it is worded in process, file and line included.
	_, _, err := judgeCustom(context.Background(), os.DirFS(filepath.Join("testdata", "custom", "syntax")), "head", data, input)
	wantLoadError(t, err, "custom rules (head): policies/broken.rego:")
	// No policies/: no child, nothing found.
	deny, warn, err := judgeCustom(context.Background(), fstest.MapFS{}, "head", data, input)
	if err != nil || deny == nil || warn == nil || len(deny)+len(warn) != 0 {
		t.Errorf("no rules: %v %v %v", deny, warn, err)
	}
}

// TestCustomRulesMemoryLimit replays the attack: a rule that doubles a string with concat (it
// reached 2 GB in 4 s in process), and one built-in call that allocates at once. Each is stopped
// with an error naming the file and rule, while this process's heap does not grow and the
// child stays near its limit.
func TestCustomRulesMemoryLimit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the hard memory limit is Linux's RLIMIT_DATA")
	}
	smallCustomLimits(t, 128<<20)
	var doubling strings.Builder
	doubling.WriteString("package permsets.custom.grow\n\ns0 := \"" + strings.Repeat("x", 1024) + "\"\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&doubling, "s%d := concat(\"\", [s%d, s%d])\n", i, i-1, i-1)
	}
	doubling.WriteString("\ndeny contains {\"code\": \"grow\", \"message\": \"m\"} if count(s40) > 0\n")
	for _, tc := range []struct{ note, file, src, rule string }{
		{"doubling concat", "policies/grow.rego", doubling.String(), "data.permsets.custom.grow.deny"},
		{"one call", "policies/range.rego", "package permsets.custom.range\n\nwarn contains {\"code\": \"r\", \"message\": \"m\"} if count(numbers.range(1, 1000000000)) > 0\n",
			"data.permsets.custom.range.warn"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			data, input := customDoc(t)
			fsys := fstest.MapFS{tc.file: {Data: []byte(tc.src)}, "policies/ok.rego": {Data: []byte("package permsets.custom.ok\n\nwarn contains {\"code\": \"c\", \"message\": \"m\"} if true\n")}}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, _, err := judgeCustom(context.Background(), fsys, "head", data, input)
			d := time.Since(start)
			runtime.ReadMemStats(&after)
			want := fmt.Sprintf("custom rules (head): %s: %s: memory limit of 128 MiB exceeded", tc.file, tc.rule)
			if err == nil || err.Error() != want {
				t.Errorf("error %v\nwant %s", err, want)
			}
			if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 32<<20 {
				t.Errorf("this process's heap grew by %d MiB", grew>>20)
			}
			if rss := childMaxRSS(t); rss > 512<<20 {
				t.Errorf("the child reached %d MiB resident", rss>>20)
			}
			if d > 10*time.Second {
				t.Errorf("stopped after %v", d)
			}
			t.Logf("stopped after %v; child max RSS %d MiB", d.Round(time.Millisecond), childMaxRSS(t)>>20)
		})
	}
}

// TestCustomRulesTimeLimit: the time limit covers compiling as well as evaluating (OPA's
// compiler takes no context, so in process it could not be stopped); the caller's cancellation
// stops the child too.
func TestCustomRulesTimeLimit(t *testing.T) {
	defer func(d time.Duration) { customTimeout = d }(customTimeout)
	data, input := customDoc(t)
	// Many rules, near the size limits: compiling them takes longer than the limit set here.
	fsys := fstest.MapFS{}
	for f := range 4 {
		var b strings.Builder
		fmt.Fprintf(&b, "package permsets.custom.many%d\n\n", f)
		for i := 0; b.Len() < customMaxFileSize-200; i++ {
			fmt.Fprintf(&b, "r%d contains x if { some x in [1, 2, 3]; x > %d; y := {z | some z in [x, x]}; count(y) > 0 }\n", i, i%3)
		}
		fsys[fmt.Sprintf("policies/many%d.rego", f)] = &fstest.MapFile{Data: []byte(b.String())}
	}
	customTimeout = 300 * time.Millisecond
	start := time.Now()
	_, _, err := judgeCustom(context.Background(), fsys, "head", data, input)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "custom rules (head): policies/ (4 files): stopped after the 300ms limit for compiling and evaluating custom rules") {
		t.Errorf("error %v, want stopped while compiling", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stopped after %v", d)
	}

	// An endless evaluation, stopped by the limit, naming its rule.
	customTimeout = 2 * time.Second
	loop := os.DirFS(filepath.Join("testdata", "custom", "loop"))
	_, _, err = judgeCustom(context.Background(), loop, "head", data, input)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "data.permsets.custom.spin.deny: stopped after the 2s limit") {
		t.Errorf("error %v, want the loop stopped by the limit", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, _, err = judgeCustom(ctx, loop, "head", data, input)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "data.permsets.custom.spin.deny: stopped: ") {
		t.Errorf("error %v, want stopped by the caller's deadline", err)
	}
}

// TestCustomRulesSizeLimits: too many, too large or too much Rego is refused before anything
// is parsed.
func TestCustomRulesSizeLimits(t *testing.T) {
	rule := func(pkg string, size int) *fstest.MapFile {
		src := "package permsets.custom." + pkg + "\n\nwarn contains {\"code\": \"c\", \"message\": \"m\"} if true\n"
		return &fstest.MapFile{Data: []byte(src + strings.Repeat("\n", max(size-len(src), 0)))}
	}
	data, input := customDoc(t)
	for _, tc := range []struct {
		note string
		fsys fstest.MapFS
		want string
	}{
		{"a file over 256 KiB", fstest.MapFS{"policies/big.rego": rule("big", customMaxFileSize+1)},
			"custom rules (head): policies/big.rego: 262145 bytes, over the 262144-byte (256 KiB) limit for a custom rules file"},
		{"over 1 MiB in all", func() fstest.MapFS {
			fsys := fstest.MapFS{}
			for i := range 5 {
				fsys[fmt.Sprintf("policies/r%d.rego", i)] = rule(fmt.Sprintf("r%d", i), customMaxFileSize)
			}
			return fsys
		}(), "custom rules (head): policies/r4.rego: the custom rules files up to this one hold 1310720 bytes, over the 1048576-byte (1 MiB) limit for all of them"},
		{"over 100 files", func() fstest.MapFS {
			fsys := fstest.MapFS{}
			for i := range customMaxFiles + 1 {
				fsys[fmt.Sprintf("policies/r%03d.rego", i)] = rule(fmt.Sprintf("r%03d", i), 0)
			}
			return fsys
		}(), "custom rules (head): policies/r100.rego: more than 100 custom rules files (*.rego) under policies/"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			start := time.Now()
			_, _, err := judgeCustom(context.Background(), tc.fsys, "head", data, input)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v\nwant %s", err, tc.want)
			}
			_, err = LoadCustomRules(tc.fsys, "head")
			if err == nil || err.Error() != tc.want {
				t.Errorf("LoadCustomRules: error %v\nwant %s", err, tc.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("refused after %v", d)
			}
		})
	}
}
