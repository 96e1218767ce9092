package plan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// customFixture loads plan/testdata/custom/<name> (its policies/ directory).
func customFixture(t *testing.T, name string) (*CustomRules, error) {
	t.Helper()
	return LoadCustomRules(os.DirFS(filepath.Join("testdata", "custom", name)), "head")
}

// customDoc is a data document and input in the shape docs/plan.md fixes, as plain JSON values.
func customDoc(t *testing.T) (any, ast.Value) {
	t.Helper()
	set := func(file string, line int, superuser, builtin bool) map[string]any {
		return map[string]any{"name": "x", "instances": []string{"prod"}, "enabled": true, "builtin": builtin, "fixed": false,
			"permissions": []string{"*=*"}, "grants": []string{}, "superuser": superuser, "file": file, "line": line}
	}
	side := func(sets map[string]any) map[string]any {
		return map[string]any{"present": true, "catalog": nil, "instances": map[string]any{}, "sets": sets,
			"assigned": map[string]any{}, "references": map[string]any{},
			"repository": map[string]any{"expiringWithinNs": 1, "setIdPattern": "", "setNamePattern": ""}}
	}
	data, err := roundTrip(map[string]any{
		"now_ns": 1796083200000000000,
		"before": side(map[string]any{"admin": set("sets/prod/admin.yaml", 1, true, true)}),
		"after": side(map[string]any{
			"admin":    set("sets/prod/admin.yaml", 1, true, true),
			"root":     set("sets/prod/root.yaml", 3, true, false),
			"zroot":    set("sets/prod/zroot.yaml", 7, true, false),
			"fin-desk": set("sets/prod/fin-desk.yaml", 1, false, false),
			"helpdesk": set("sets/prod/helpdesk.yaml", 1, false, false),
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	change := func(id, action string) map[string]any {
		return map[string]any{"kind": "PermissionSet", "id": id, "action": action, "fields": []any{}}
	}
	in, err := roundTrip(map[string]any{
		"changes": []any{change("admin", "change"), change("root", "add"), change("zroot", "change"),
			change("fin-desk", "add"), change("helpdesk", "add")},
		"access_changes": []any{}, "problems": []any{}, "actor": nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	input, err := ast.InterfaceToValue(in)
	if err != nil {
		t.Fatal(err)
	}
	return data, input
}

// wantLoadError loads a fixture (or fsys) and checks that it fails with every fragment.
func wantLoadError(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("loaded; want an error with %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}

func TestCustomRulesDeny(t *testing.T) {
	c, err := customFixture(t, "deny")
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d, want 2", c.Len())
	}
	data, input := customDoc(t)
	deny, warn, err := c.Judge(context.Background(), data, input)
	if err != nil {
		t.Fatal(err)
	}
	msg := func(id string) string {
		return fmt.Sprintf("set %q grants *=*; only builtin sets may, ask the security team", id)
	}
	want := []Finding{
		{Code: "actor-required", Message: "custom rules want an actor"},
		{Code: "no-superuser-sets", Object: "PermissionSet/root", File: "sets/prod/root.yaml", Line: 3, Message: msg("root")},
		{Code: "no-superuser-sets", Object: "PermissionSet/zroot", File: "sets/prod/zroot.yaml", Line: 7, Message: msg("zroot")},
	}
	if !reflect.DeepEqual(deny, want) {
		t.Errorf("deny = %+v\nwant %+v", deny, want)
	}
	if warn == nil || len(warn) != 0 {
		t.Errorf("warn = %#v, want empty and non-nil", warn)
	}
}

func TestCustomRulesWarn(t *testing.T) {
	c, err := customFixture(t, "warn")
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d, want 2 (loading is recursive)", c.Len())
	}
	data, input := customDoc(t)
	deny, warn, err := c.Judge(context.Background(), data, input)
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{
		{Code: "team-prefix", Object: "PermissionSet/helpdesk", Message: `set "helpdesk" should start with a team prefix (fin-, ops-)`},
		{Code: "team-prefix", Object: "PermissionSet/root", Message: `set "root" should start with a team prefix (fin-, ops-)`},
	}
	if !reflect.DeepEqual(warn, want) {
		t.Errorf("warn = %+v\nwant %+v", warn, want)
	}
	if deny == nil || len(deny) != 0 {
		t.Errorf("deny = %#v, want empty and non-nil", deny)
	}
	// Without input, the rules see no changes.
	_, warn, err = c.Judge(context.Background(), data, nil)
	if err != nil || len(warn) != 0 {
		t.Errorf("without input: warn %v, err %v", warn, err)
	}
}

func TestCustomRulesNoPolicies(t *testing.T) {
	for _, tc := range []struct {
		name string
		load func() (*CustomRules, error)
	}{
		{"fixture", func() (*CustomRules, error) { return customFixture(t, "nopolicies") }},
		{"empty fs", func() (*CustomRules, error) { return LoadCustomRules(fstest.MapFS{}, "base live") }},
		{"empty dir", func() (*CustomRules, error) {
			return LoadCustomRules(fstest.MapFS{"policies/README.md": {Data: []byte("notes")}}, "base live")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.load()
			if err != nil {
				t.Fatal(err)
			}
			if c == nil || c.Len() != 0 {
				t.Fatalf("rules = %v, want empty and non-nil", c)
			}
			data, input := customDoc(t)
			deny, warn, err := c.Judge(context.Background(), data, input)
			if err != nil {
				t.Fatal(err)
			}
			if deny == nil || warn == nil || len(deny)+len(warn) != 0 {
				t.Errorf("deny %#v, warn %#v: want empty, non-nil", deny, warn)
			}
		})
	}
}

func TestCustomRulesRefused(t *testing.T) {
	for _, tc := range []struct {
		fixture   string
		fragments []string
	}{
		{"syntax", []string{"custom rules (head): ", "policies/broken.rego:5: unexpected } token"}},
		{"wrongpkg", []string{"policies/x.rego:1: package permsets.plan: custom rules must declare package permsets.custom.<name>"}},
		{"httpsend", []string{"policies/fetch.rego:4: http.send is not allowed in custom rules"}},
		{"netlookup", []string{"policies/dns.rego:4: net.lookup_ip_addr is not allowed in custom rules"}},
		{"timenow", []string{"policies/clock.rego:4: time.now_ns is not allowed in custom rules", "data.permsets_plan.now_ns"}},
		{"forbiddenimport", []string{
			"2 errors",
			"policies/index.rego:3: import data.permsets_index: custom rules may import only data.permsets_plan, input, future.keywords and rego.v1",
			"policies/other.rego:3: import data.other.secrets: custom rules may import only",
		}},
		{"dataref", []string{"policies/ref.rego:4: data.permsets.plan.deny: custom rules may read only data.permsets_plan and data.permsets.custom"}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			c, err := customFixture(t, tc.fixture)
			if c != nil {
				t.Errorf("rules = %v, want nil with the error", c)
			}
			wantLoadError(t, err, tc.fragments...)
		})
	}
}

// TestCustomRulesRefusedBuiltins calls each removed built-in (a representative of each kind).
func TestCustomRulesRefusedBuiltins(t *testing.T) {
	for _, call := range []string{
		`http.send({"method": "GET", "url": "http://x"})`,
		`opa.runtime()`,
		`net.cidr_contains("10.0.0.0/8", "10.1.1.1")`,
		`rand.intn("x", 10)`,
		`uuid.rfc4122("x")`,
		`trace("x")`,
		`io.jwt.decode_verify("x", {})`,
		`json.match_schema({}, {})`,
		`providers.aws.sign_req({}, {}, 0)`,
	} {
		fn := call[:strings.Index(call, "(")]
		src := "package permsets.custom.x\n\nwarn contains {\"code\": \"c\", \"message\": sprintf(\"%v\", [v])} if {\n\tv := " + call + "\n}\n"
		_, err := LoadCustomRules(fstest.MapFS{"policies/x.rego": {Data: []byte(src)}}, "head")
		wantLoadError(t, err, "policies/x.rego:4: "+fn+" is not allowed in custom rules")
	}
	// A function that does not exist at all is reported as OPA reports it.
	src := "package permsets.custom.x\n\nwarn contains {\"code\": \"c\", \"message\": v} if {\n\tv := no.such_function(1)\n}\n"
	_, err := LoadCustomRules(fstest.MapFS{"policies/x.rego": {Data: []byte(src)}}, "head")
	wantLoadError(t, err, "policies/x.rego:4: undefined function no.such_function")
}

func TestCustomCapabilities(t *testing.T) {
	caps := customCapabilities()
	if caps.AllowNet == nil || len(caps.AllowNet) != 0 {
		t.Errorf("AllowNet = %#v, want an empty list", caps.AllowNet)
	}
	var allowed []string
	for _, b := range caps.Builtins {
		if b.Nondeterministic {
			t.Errorf("built-in %s is nondeterministic but allowed in custom rules", b.Name)
		}
		if _, removed := customRemoved(b.Name); removed {
			t.Errorf("built-in %s is removed but allowed", b.Name)
		}
		allowed = append(allowed, b.Name)
	}
	for name := range customRemovedBuiltins {
		if slices.Contains(allowed, name) {
			t.Errorf("built-in %s is allowed", name)
		}
	}
	// The allow-list, written out: an OPA upgrade that adds built-ins fails here, so that each
	// new one is reviewed (and added here, or to customRemovedBuiltins).
	want := strings.Fields(`abs all and any array.concat array.flatten array.reverse array.slice assign
		base64.decode base64.encode base64.is_valid base64url.decode base64url.encode base64url.encode_no_pad
		bits.and bits.lsh bits.negate bits.or bits.rsh bits.xor
		cast_array cast_boolean cast_null cast_object cast_set cast_string ceil concat contains count
		crypto.hmac.equal crypto.hmac.md5 crypto.hmac.sha1 crypto.hmac.sha256 crypto.hmac.sha512 crypto.md5
		crypto.parse_private_keys crypto.sha1 crypto.sha256 crypto.x509.parse_and_verify_certificates_with_options
		crypto.x509.parse_certificate_request crypto.x509.parse_certificates crypto.x509.parse_keypair
		crypto.x509.parse_rsa_private_key div endswith eq equal floor format_int glob.match glob.quote_meta
		graph.reachable graph.reachable_paths graphql.is_valid graphql.parse graphql.parse_and_verify
		graphql.parse_query graphql.parse_schema graphql.schema_is_valid gt gte hex.decode hex.encode
		indexof indexof_n internal.member_2 internal.member_3 internal.template_string internal.test_case
		intersection io.jwt.decode io.jwt.verify_eddsa io.jwt.verify_es256 io.jwt.verify_es384
		io.jwt.verify_es512 io.jwt.verify_hs256 io.jwt.verify_hs384 io.jwt.verify_hs512 io.jwt.verify_ps256
		io.jwt.verify_ps384 io.jwt.verify_ps512 io.jwt.verify_rs256 io.jwt.verify_rs384 io.jwt.verify_rs512
		is_array is_boolean is_null is_number is_object is_set is_string json.filter json.is_valid
		json.marshal json.marshal_with_options json.patch json.remove json.unmarshal lower lt lte max min
		minus mul neq numbers.range numbers.range_step object.filter object.get object.keys object.remove
		object.subset object.union object.union_n or plus product re_match regex.find_all_string_submatch_n
		regex.find_n regex.globs_match regex.is_valid regex.match regex.replace regex.split
		regex.template_match rego.metadata.chain rego.metadata.rule rego.parse_module rem replace round
		semver.compare semver.is_valid set_diff sort split sprintf startswith strings.any_prefix_match
		strings.any_suffix_match strings.count strings.render_template strings.replace_n strings.reverse
		strings.split_n substring sum time.add_date time.clock time.date time.diff time.format
		time.parse_duration_ns time.parse_ns time.parse_rfc3339_ns time.weekday to_number trim trim_left
		trim_prefix trim_right trim_space trim_suffix type_name union units.parse units.parse_bytes upper
		uri.is_valid uri.parse urlquery.decode urlquery.decode_object urlquery.encode urlquery.encode_object
		uuid.parse walk yaml.is_valid yaml.marshal yaml.unmarshal`)
	slices.Sort(allowed)
	allowed = slices.Compact(allowed)
	for _, name := range allowed {
		if !slices.Contains(want, name) {
			t.Errorf("built-in %s is allowed but not reviewed: add it to the list here, or to customRemovedBuiltins", name)
		}
	}
	for _, name := range want {
		if !slices.Contains(allowed, name) {
			t.Errorf("built-in %s is in the reviewed list but not allowed", name)
		}
	}
}

func TestCustomRulesPrintErased(t *testing.T) {
	// The warn fixture prints; print statements are disabled, so it loads and judges quietly.
	src := "package permsets.custom.p\n\nwarn contains {\"code\": \"c\", \"message\": \"m\"} if {\n\tprint(\"hello\")\n}\n"
	c, err := LoadCustomRules(fstest.MapFS{"policies/p.rego": {Data: []byte(src)}}, "head")
	if err != nil {
		t.Fatal(err)
	}
	_, warn, err := c.Judge(context.Background(), nil, nil)
	if err != nil || len(warn) != 1 {
		t.Errorf("warn %v, err %v", warn, err)
	}
}

func TestCustomRulesBadFindings(t *testing.T) {
	data, input := customDoc(t)
	for _, tc := range []struct {
		fixture   string
		fragments []string
	}{
		{"notobject", []string{"custom rules (head): data.permsets.custom.number.deny: finding 42: is number, not an object"}},
		{"nocode", []string{"data.permsets.custom.nocode.warn: finding {\"message\": \"a finding without a code\"}: has no code"}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			c, err := customFixture(t, tc.fixture)
			if err != nil {
				t.Fatal(err)
			}
			deny, warn, err := c.Judge(context.Background(), data, input)
			if deny != nil || warn != nil {
				t.Errorf("deny %v, warn %v, want nil with the error", deny, warn)
			}
			wantLoadError(t, err, tc.fragments...)
		})
	}
	for _, tc := range []struct{ rule, fragment string }{
		{`warn contains {"code": 1, "message": "m"} if true`, "code is number, not a string"},
		{`warn contains {"code": "", "message": "m"} if true`, "code is empty"},
		{`warn contains {"code": "c"} if true`, "has no message"},
		{`warn contains {"code": "c", "message": "m", "line": 1.5} if true`, "line is 1.5, not a non-negative integer"},
		{`warn contains {"code": "c", "message": "m", "line": -1} if true`, "line is -1"},
		{`warn contains {"code": "c", "message": "m", "file": ["x"]} if true`, "file is array, not a string"},
		{`warn contains {"code": "c", "message": "m", "msg": "typo"} if true`, `unknown key "msg"`},
		{`warn[x] if { x := "a" }`, "data.permsets.custom.x.warn: must be a set of findings (warn contains {...} if ...), got object"},
		{`warn := "nothing"`, "got string"},
	} {
		src := "package permsets.custom.x\n\n" + tc.rule + "\n"
		c, err := LoadCustomRules(fstest.MapFS{"policies/x.rego": {Data: []byte(src)}}, "head")
		if err != nil {
			t.Errorf("%s: %v", tc.rule, err)
			continue
		}
		_, _, err = c.Judge(context.Background(), data, input)
		if err == nil || !strings.Contains(err.Error(), tc.fragment) {
			t.Errorf("%s: error %v, want one with %q", tc.rule, err, tc.fragment)
		}
	}
	// null counts as absent for object, file and line.
	src := "package permsets.custom.x\n\nwarn contains {\"code\": \"c\", \"message\": \"m\", \"file\": null, \"line\": null, \"object\": null} if true\n"
	c, err := LoadCustomRules(fstest.MapFS{"policies/x.rego": {Data: []byte(src)}}, "head")
	if err != nil {
		t.Fatal(err)
	}
	_, warn, err := c.Judge(context.Background(), data, input)
	if err != nil || !reflect.DeepEqual(warn, []Finding{{Code: "c", Message: "m"}}) {
		t.Errorf("warn %+v, err %v", warn, err)
	}
}

func TestCustomRulesBounded(t *testing.T) {
	c, err := customFixture(t, "loop")
	if err != nil {
		t.Fatal(err)
	}
	data, input := customDoc(t)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = c.Judge(ctx, data, input)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "data.permsets.custom.spin.deny: evaluation stopped") {
		t.Errorf("error %v, want evaluation stopped by the deadline", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stopped after %s", d)
	}

	// Judge's own time limit, shortened.
	defer func(d time.Duration) { customTimeout = d }(customTimeout)
	customTimeout = 100 * time.Millisecond
	_, _, err = c.Judge(context.Background(), data, input)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "evaluation stopped after the 100ms limit") {
		t.Errorf("error %v, want evaluation stopped by Judge's own limit", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, _, err = c.Judge(ctx, data, input)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("with a cancelled context: error %v, want context.Canceled", err)
	}
}

func TestCustomRulesIgnoreTestFiles(t *testing.T) {
	c, err := customFixture(t, "testfile")
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 1 {
		t.Errorf("Len = %d, want 1 (rule_test.rego ignored)", c.Len())
	}
	_, warn, err := c.Judge(context.Background(), nil, nil)
	if err != nil || !reflect.DeepEqual(warn, []Finding{{Code: "always", Message: "a custom warning"}}) {
		t.Errorf("warn %+v, err %v", warn, err)
	}
}

func TestCustomRulesLimits(t *testing.T) {
	rule := func(pkg string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("package permsets.custom." + pkg + "\n\nwarn contains {\"code\": \"c\", \"message\": \"m\"} if true\n")}
	}
	t.Run("oversized", func(t *testing.T) {
		big := append([]byte("package permsets.custom.big\n\n"), make([]byte, customMaxFileSize)...)
		for i := 29; i < len(big); i++ {
			big[i] = ' '
		}
		_, err := LoadCustomRules(fstest.MapFS{"policies/big.rego": {Data: big}, "policies/ok.rego": rule("ok")}, "head")
		wantLoadError(t, err, "custom rules (head): policies/big.rego: 262173 bytes, over the 262144-byte (256 KiB) limit")
	})
	t.Run("at the size limit", func(t *testing.T) {
		src := rule("edge").Data
		src = append(src, make([]byte, customMaxFileSize-len(src))...)
		for i := len(rule("edge").Data); i < len(src); i++ {
			src[i] = '\n'
		}
		if _, err := LoadCustomRules(fstest.MapFS{"policies/edge.rego": {Data: src}}, "head"); err != nil {
			t.Error(err)
		}
	})
	t.Run("too many files", func(t *testing.T) {
		fsys := fstest.MapFS{}
		for i := range customMaxFiles {
			fsys[fmt.Sprintf("policies/r%03d.rego", i)] = rule(fmt.Sprintf("r%03d", i))
		}
		fsys["policies/r000_test.rego"] = rule("ignored")
		c, err := LoadCustomRules(fsys, "head")
		if err != nil {
			t.Fatalf("%d files: %v", customMaxFiles, err)
		}
		if c.Len() != customMaxFiles {
			t.Errorf("Len = %d", c.Len())
		}
		fsys["policies/z/one-more.rego"] = rule("onemore")
		_, err = LoadCustomRules(fsys, "head")
		wantLoadError(t, err, "more than 100 custom rules files")
	})
	t.Run("symlink", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "policies"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "outside.rego"), rule("outside").Data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("../outside.rego", filepath.Join(dir, "policies", "link.rego")); err != nil {
			t.Skip("no symlinks here:", err)
		}
		_, err := LoadCustomRules(os.DirFS(dir), "head")
		wantLoadError(t, err, "policies/link.rego: is a symbolic link")

		// policies/ itself a link.
		dir2 := t.TempDir()
		if err := os.Symlink(filepath.Join(dir, "policies"), filepath.Join(dir2, "policies")); err != nil {
			t.Fatal(err)
		}
		_, err = LoadCustomRules(os.DirFS(dir2), "head")
		wantLoadError(t, err, "policies: is a symbolic link")
	})
	t.Run("policies is a file", func(t *testing.T) {
		_, err := LoadCustomRules(fstest.MapFS{"policies": {Data: []byte("x")}}, "head")
		wantLoadError(t, err, "policies: is not a directory")
	})
	t.Run("empty file", func(t *testing.T) {
		_, err := LoadCustomRules(fstest.MapFS{"policies/empty.rego": {Data: nil}}, "head")
		wantLoadError(t, err, "policies/empty.rego")
	})
}

// TestCustomRulesPerRevision loads the same rules as base and head: each revision has its own
// compiler, so they do not conflict, and both judge.
func TestCustomRulesPerRevision(t *testing.T) {
	fsys := os.DirFS(filepath.Join("testdata", "custom", "deny"))
	base, err := LoadCustomRules(fsys, "base live")
	if err != nil {
		t.Fatal(err)
	}
	head, err := LoadCustomRules(fsys, "head")
	if err != nil {
		t.Fatal(err)
	}
	data, input := customDoc(t)
	d1, _, err1 := base.Judge(context.Background(), data, input)
	d2, _, err2 := head.Judge(context.Background(), data, input)
	if err1 != nil || err2 != nil || !reflect.DeepEqual(d1, d2) || len(d1) != 3 {
		t.Errorf("base %v (%v), head %v (%v)", d1, err1, d2, err2)
	}
	// The label names the revision in errors.
	_, err = LoadCustomRules(os.DirFS(filepath.Join("testdata", "custom", "wrongpkg")), "base live")
	wantLoadError(t, err, "custom rules (base live): policies/x.rego:1:")
}

func FuzzLoadCustomRules(f *testing.F) {
	entries, err := filepath.Glob(filepath.Join("testdata", "custom", "*", "policies", "*.rego"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		src, err := os.ReadFile(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("package permsets.custom.x\n\nimport rego.v1\nimport future.keywords.in\n\ndeny contains {\"code\": \"c\", \"message\": \"m\"} if true\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := LoadCustomRules(fstest.MapFS{"policies/x.rego": {Data: src}}, "head")
		if err == nil && c == nil {
			t.Fatal("nil rules without an error")
		}
		if err != nil && c != nil {
			t.Fatal("rules with an error")
		}
	})
}

// TestCustomRulesInvalidCodes: a finding code must match ^[a-z0-9][a-z0-9-]{0,63}$; any other
// (a newline, markup, an HTML comment, upper case, too long) is reported as invalid-finding,
// and an invalid deny stays a deny.
func TestCustomRulesInvalidCodes(t *testing.T) {
	data, input := customDoc(t)
	for _, tc := range []struct {
		note, code string
		valid      bool
	}{
		{"a plain code", "no-root", true},
		{"digits first", "2fa-required", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"65 characters", strings.Repeat("a", 65), false},
		{"a newline and an HTML comment", "x\\n<!--", false},
		{"a fake verdict", "### ✅ no rule denies this change", false},
		{"upper case", "NoRoot", false},
		{"a leading dash", "-x", false},
		{"an underscore", "no_root", false},
		{"a terminal escape", "x\\u001b[2J", false},
	} {
		t.Run(tc.note, func(t *testing.T) {
			src := "package permsets.custom.x\n\ndeny contains {\"code\": \"" + tc.code + "\", \"object\": \"User/x\", \"message\": \"m\"} if true\n"
			c, err := LoadCustomRules(fstest.MapFS{"policies/x.rego": {Data: []byte(src)}}, "head")
			if err != nil {
				t.Fatal(err)
			}
			deny, warn, err := c.Judge(context.Background(), data, input)
			if err != nil || len(deny) != 1 || len(warn) != 0 {
				t.Fatalf("deny %+v, warn %+v, err %v", deny, warn, err)
			}
			f := deny[0]
			if tc.valid {
				if f.Code == CodeInvalidFinding || f.Message != "m" {
					t.Errorf("a valid code %q was reported as %+v", tc.code, f)
				}
				return
			}
			if f.Code != CodeInvalidFinding || f.Object != "User/x" || !strings.Contains(f.Message, "data.permsets.custom.x.deny gave a finding with the code ") || !strings.HasSuffix(f.Message, ": m") {
				t.Errorf("code %q: %+v", tc.code, f)
			}
			if strings.ContainsAny(f.Message, "\n\x1b") {
				t.Errorf("the message keeps a control character: %q", f.Message)
			}
		})
	}
}
