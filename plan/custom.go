package plan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
)

// Custom change rules (docs/plan.md, Custom rules): the Rego files of a config repository's policies/
// directory that declare package permsets.custom.<name> add their own deny and warn findings.
// They are untrusted code, so they are compiled with a reduced set of built-ins (no I/O, nothing
// nondeterministic), may import and read only the plan's data document and input, and each
// revision's rules get their own compiler: the base's and the head's custom rules both judge a
// plan, so a pull request cannot delete the rule it breaks. A plan loads and judges them in a
// child process under memory and time limits (customproc.go).

const (
	// customPackage is the package every custom rules file must declare (or one below it).
	customPackage = "permsets.custom"
	// customMaxFiles is the most custom rules files a revision may hold, customMaxFileSize
	// the largest (256 KiB) and customMaxTotalSize their sum (1 MiB). The rules of permsets
	// itself are 6 files of 48 KiB in all, the largest 16 KiB; compiling is roughly linear in
	// the source but a hostile megabyte of Rego can take seconds and hundreds of MiB, so the
	// limits are kept near what hand-written rules need (see docs/plan.md).
	customMaxFiles     = 100
	customMaxFileSize  = 256 << 10
	customMaxTotalSize = 1 << 20
	// customMaxErrors is the most errors one load reports.
	customMaxErrors = 10
)

// customTimeout bounds one Judge call (a variable for tests).
var customTimeout = 30 * time.Second

// customRemovedBuiltins are the built-ins custom rules may not call, with why: they do I/O, read
// the environment or the clock, or are random, and a plan must be deterministic and must not
// reach out of the process. Every other built-in of this OPA version is allowed; besides these
// names, every built-in in customRemovedPrefixes is removed too (net.*: DNS lookups, and the
// whole namespace as docs/plan.md says). The type checker then reports a call to one as an
// undefined function, which LoadCustomRules turns into "... is not allowed in custom rules".
var customRemovedBuiltins = map[string]string{
	"http.send":                 "makes HTTP requests",
	"opa.runtime":               "reads the process's environment and configuration",
	"net.lookup_ip_addr":        "makes DNS lookups",
	"net.cidr_contains":         "is in the net.* namespace",
	"net.cidr_contains_matches": "is in the net.* namespace",
	"net.cidr_expand":           "is in the net.* namespace",
	"net.cidr_intersects":       "is in the net.* namespace",
	"net.cidr_is_valid":         "is in the net.* namespace",
	"net.cidr_merge":            "is in the net.* namespace",
	"net.cidr_overlap":          "is in the net.* namespace",
	"rand.intn":                 "is random",
	"uuid.rfc4122":              "is random",
	"time.now_ns":               "reads the clock; use data.permsets_plan.now_ns, the time of the plan",
	"trace":                     "writes to the evaluation trace",
	"print":                     "writes output; print statements are disabled",
	"internal.print":            "writes output; print statements are disabled",
	"io.jwt.decode_verify":      "reads the clock to check exp and nbf",
	"io.jwt.encode_sign":        "is random (ECDSA and PSS signatures)",
	"io.jwt.encode_sign_raw":    "is random (ECDSA and PSS signatures)",
	"json.match_schema":         "may fetch a schema's remote $ref",
	"json.verify_schema":        "may fetch a schema's remote $ref",
	"providers.aws.sign_req":    "signs requests with credentials, for http.send",
	"crypto.x509.parse_and_verify_certificates": "verifies against the clock; " +
		"crypto.x509.parse_and_verify_certificates_with_options with a CurrentTime is allowed",
}

// customRemovedPrefixes are namespaces of built-ins removed whole, including ones a later OPA
// version adds.
var customRemovedPrefixes = []string{"net."}

// customImports are the imports custom rules may declare: a path equal to or below one of these.
var customImports = []ast.Ref{
	ast.MustParseRef("data." + DataRoot),
	ast.InputRootRef,
	ast.MustParseRef("future.keywords"),
	ast.MustParseRef("rego.v1"),
}

// customRemoved says whether custom rules may not call the built-in name, and why.
func customRemoved(name string) (string, bool) {
	if why, ok := customRemovedBuiltins[name]; ok {
		return why, true
	}
	for _, p := range customRemovedPrefixes {
		if strings.HasPrefix(name, p) {
			return "is in the " + p + "* namespace", true
		}
	}
	return "", false
}

// customCapabilities are this OPA version's capabilities without the removed built-ins and
// with no network access.
func customCapabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion(ast.CapabilitiesRegoVersion(ast.RegoV1))
	kept := make([]*ast.Builtin, 0, len(caps.Builtins))
	for _, b := range caps.Builtins {
		if _, removed := customRemoved(b.Name); !removed {
			kept = append(kept, b)
		}
	}
	caps.Builtins = kept
	caps.AllowNet = []string{}
	return caps
}

// CustomRules are the change rules of one revision's policies/ directory.
type CustomRules struct {
	label    string
	modules  int
	compiler *ast.Compiler
	// queries are the rules to evaluate: data.permsets.custom.<name>.deny and .warn, for the
	// packages that define them, sorted.
	queries []customQuery
	// onEval, when set, is told of each query before it is evaluated (the child process of
	// customproc.go reports it, so a limit hit names the rule).
	onEval func(customQuery)
}

type customQuery struct {
	ref  ast.Ref
	warn bool
	file string // the first file (by name) that defines the rule
}

// LoadCustomRules reads every *.rego file under policies/ of fsys (the config root; recursive;
// a missing policies/ directory gives an empty, non-nil *CustomRules), excluding *_test.rego
// files, and compiles them. label names the revision in errors (e.g. "base live" or "head").
// Errors are clear and carry file:line: a parse error, a package outside permsets.custom, an
// import other than data.permsets_plan, input, future.keywords and rego.v1, a reference to data
// outside data.permsets_plan and data.permsets.custom, a call to a built-in outside the
// allow-list, a file over 256 KiB, files over 1 MiB in all, more than 100 files, a symlink.
func LoadCustomRules(fsys fs.FS, label string) (*CustomRules, error) {
	c := &CustomRules{label: label}
	files, err := customFiles(fsys)
	if err != nil {
		return nil, c.errorf("%w", err)
	}
	if len(files) == 0 {
		return c, nil
	}
	caps := customCapabilities()
	var problems ast.Errors
	modules := map[string]*ast.Module{}
	total := 0
	for _, name := range files {
		src, err := customRead(fsys, name)
		if err != nil {
			return nil, c.errorf("%w", err)
		}
		if total += len(src); total > customMaxTotalSize {
			return nil, c.errorf("%s: the custom rules files up to this one hold %d bytes, over the %d-byte (1 MiB) limit for all of them", name, total, customMaxTotalSize)
		}
		m, err := ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1, Capabilities: caps})
		if err != nil {
			problems = append(problems, customParseErrors(name, err)...)
			continue
		}
		if m == nil {
			problems = append(problems, ast.NewError(ast.ParseErr, &ast.Location{File: name, Row: 1}, "empty module"))
			continue
		}
		problems = append(problems, customCheckModule(name, m)...)
		modules[name] = m
	}
	if len(problems) > 0 {
		return nil, c.compileError(problems)
	}
	compiler := ast.NewCompiler().
		WithCapabilities(caps).
		WithEnablePrintStatements(false).
		WithDefaultRegoVersion(ast.RegoV1)
	compiler.SetErrorLimit(customMaxErrors)
	if compiler.Compile(modules); compiler.Failed() {
		return nil, c.compileError(compiler.Errors)
	}
	c.compiler = compiler
	c.modules = len(modules)
	c.queries = customQueries(modules)
	return c, nil
}

// customFiles lists the custom rules files under policies/, sorted.
func customFiles(fsys fs.FS) ([]string, error) {
	root := config.PoliciesDir
	info, err := fs.Lstat(fsys, root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s: is a symbolic link; custom rules must be regular files in the repository", root)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s: is not a directory", root)
	}
	var files []string
	err = fs.WalkDir(fsys, root, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s: is a symbolic link; custom rules must be regular files in the repository", name)
		}
		if d.IsDir() {
			return nil
		}
		base := path.Base(name)
		if !strings.HasSuffix(base, ".rego") || strings.HasSuffix(base, "_test.rego") {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: is not a regular file", name)
		}
		if len(files) == customMaxFiles {
			return fmt.Errorf("%s: more than %d custom rules files (*.rego) under %s/", name, customMaxFiles, root)
		}
		files = append(files, name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	return files, nil
}

// customRead reads one custom rules file, refusing one over customMaxFileSize.
func customRead(fsys fs.FS, name string) ([]byte, error) {
	tooBig := func(n int64) error {
		return fmt.Errorf("%s: %d bytes, over the %d-byte (256 KiB) limit for a custom rules file", name, n, customMaxFileSize)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > customMaxFileSize {
		return nil, tooBig(info.Size())
	}
	src, err := io.ReadAll(io.LimitReader(f, customMaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(src) > customMaxFileSize {
		return nil, fmt.Errorf("%s: over the %d-byte (256 KiB) limit for a custom rules file", name, customMaxFileSize)
	}
	return src, nil
}

// customParseErrors are the errors of parsing one file, each with a location in it.
func customParseErrors(name string, err error) ast.Errors {
	var errs ast.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			if e.Location == nil {
				e.Location = &ast.Location{File: name}
			}
		}
		return errs
	}
	return ast.Errors{ast.NewError(ast.ParseErr, &ast.Location{File: name}, "%s", err.Error())}
}

// customCheckModule checks what the compiler does not: the package, the imports and the
// references to data.
func customCheckModule(name string, m *ast.Module) ast.Errors {
	var errs ast.Errors
	loc := func(l *ast.Location) *ast.Location {
		if l == nil {
			return &ast.Location{File: name}
		}
		return l
	}
	if p := m.Package.Path; len(p) < 4 || !p[1].Equal(ast.InternedTerm("permsets")) || !p[2].Equal(ast.InternedTerm("custom")) {
		errs = append(errs, ast.NewError(ast.CompileErr, loc(m.Package.Location),
			"%s: custom rules must declare package %s.<name>", m.Package, customPackage))
	}
	for _, imp := range m.Imports {
		ref, ok := imp.Path.Value.(ast.Ref)
		if !ok || !slices.ContainsFunc(customImports, func(allowed ast.Ref) bool { return ref.HasPrefix(allowed) }) {
			errs = append(errs, ast.NewError(ast.CompileErr, loc(imp.Location),
				"import %s: custom rules may import only data.%s, input, future.keywords and rego.v1", imp.Path, DataRoot))
		}
	}
	seen := map[string]bool{}
	for _, r := range m.Rules {
		ast.WalkRefs(r, func(ref ast.Ref) bool {
			if !ref[0].Equal(ast.DefaultRootDocument) || customDataRefAllowed(ref) {
				return false
			}
			l := loc(ref[0].Location)
			key := fmt.Sprintf("%d:%d:%s", l.Row, l.Col, ref)
			if !seen[key] {
				seen[key] = true
				errs = append(errs, ast.NewError(ast.CompileErr, l,
					"%s: custom rules may read only data.%s and data.%s", ref, DataRoot, customPackage))
			}
			return false
		})
	}
	return errs
}

// customDataRefAllowed says whether a reference to data stays within data.permsets_plan or
// the custom rules' own packages (data.permsets.custom).
func customDataRefAllowed(ref ast.Ref) bool {
	if len(ref) >= 2 && ref[1].Equal(ast.InternedTerm(DataRoot)) {
		return true
	}
	return len(ref) >= 3 && ref[1].Equal(ast.InternedTerm("permsets")) && ref[2].Equal(ast.InternedTerm("custom"))
}

// customQueries are the deny and warn rules the modules' packages define.
func customQueries(modules map[string]*ast.Module) []customQuery {
	found := map[string]customQuery{}
	for name, m := range modules {
		for _, r := range m.Rules {
			head := r.Head.Ref()
			if len(head) == 0 {
				continue
			}
			v, ok := head[0].Value.(ast.Var)
			if !ok || (v != "deny" && v != "warn") {
				continue
			}
			ref := m.Package.Path.Copy().Append(ast.StringTerm(string(v)))
			if q, ok := found[ref.String()]; !ok || name < q.file {
				found[ref.String()] = customQuery{ref: ref, warn: v == "warn", file: name}
			}
		}
	}
	out := make([]customQuery, 0, len(found))
	for _, q := range found {
		out = append(out, q)
	}
	slices.SortFunc(out, func(a, b customQuery) int { return cmp.Compare(a.ref.String(), b.ref.String()) })
	return out
}

// compileError is one error for the problems of a load, each as file:line: message, with a
// removed built-in's call said to be not allowed.
func (c *CustomRules) compileError(problems ast.Errors) error {
	loc := func(e *ast.Error) (string, int, int) {
		if e.Location == nil {
			return "", 0, 0
		}
		return e.Location.File, e.Location.Row, e.Location.Col
	}
	slices.SortStableFunc(problems, func(a, b *ast.Error) int {
		af, ar, ac := loc(a)
		bf, br, bc := loc(b)
		return cmp.Or(cmp.Compare(af, bf), cmp.Compare(ar, br), cmp.Compare(ac, bc))
	})
	lines := make([]string, 0, len(problems))
	for i, e := range problems {
		if i == customMaxErrors {
			lines = append(lines, fmt.Sprintf("and %d more", len(problems)-i))
			break
		}
		msg := e.Message
		if fn, ok := strings.CutPrefix(msg, "undefined function "); ok {
			if why, removed := customRemoved(fn); removed {
				msg = fmt.Sprintf("%s is not allowed in custom rules: it %s", fn, why)
			}
		}
		where := ""
		if e.Location != nil {
			where = e.Location.File
			if e.Location.Row > 0 {
				where = fmt.Sprintf("%s:%d", where, e.Location.Row)
			}
			where += ": "
		}
		lines = append(lines, where+msg)
	}
	if len(lines) == 1 {
		return c.errorf("%s", lines[0])
	}
	return c.errorf("%d errors:\n  %s", len(problems), strings.Join(lines, "\n  "))
}

func (c *CustomRules) errorf(format string, args ...any) error {
	prefix := "custom rules"
	if c.label != "" {
		prefix += " (" + c.label + ")"
	}
	return fmt.Errorf(prefix+": "+format, args...)
}

// Len is the number of modules.
func (c *CustomRules) Len() int {
	if c == nil {
		return 0
	}
	return c.modules
}

// Judge evaluates every permsets.custom.* package's deny and warn (partial sets of findings)
// over the plan's data document (placed at data.permsets_plan, the same JSON-like value the
// built-in rules read) and input. Each finding must be an object with string code and message
// (object, file default "", line default 0); anything else is an error naming the package and
// the bad value. A package may define deny, warn, both or neither. Findings come back sorted
// (code, object, file, line, message), de-duplicated. Evaluation is bounded: it stops with an
// error when ctx is done, and Judge applies its own 30 s timeout.
func (c *CustomRules) Judge(ctx context.Context, data any, input ast.Value) (deny, warn []Finding, err error) {
	deny, warn = []Finding{}, []Finding{}
	if c == nil || len(c.queries) == 0 {
		return deny, warn, nil
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, customTimeout)
	defer cancel()
	doc, err := ast.InterfaceToValue(data)
	if err != nil {
		return nil, nil, c.errorf("data: %w", err)
	}
	store := inmem.NewFromObjectWithOpts(map[string]any{DataRoot: doc}, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	for _, q := range c.queries {
		if err := ctx.Err(); err != nil {
			return nil, nil, c.evalError(parent, ctx, q, err)
		}
		if c.onEval != nil {
			c.onEval(q)
		}
		// Results as terms: a finding is read as the Rego value it is (customFinding).
		pq, err := engine.Prepare(ctx, q.ref, engine.QueryOptions{Compiler: c.compiler, Store: store, Terms: true})
		if err != nil {
			return nil, nil, c.evalError(parent, ctx, q, err)
		}
		v, err := pq.Eval(ctx, input, time.Time{})
		if err != nil {
			return nil, nil, c.evalError(parent, ctx, q, err)
		}
		if v == nil {
			continue
		}
		found, err := c.findings(q, v)
		if err != nil {
			return nil, nil, err
		}
		if q.warn {
			warn = append(warn, found...)
		} else {
			deny = append(deny, found...)
		}
	}
	return uniqueFindings(deny), uniqueFindings(warn), nil
}

// evalError says why a query failed: stopped (the caller's ctx done, or Judge's own time limit)
// or an evaluation error.
func (c *CustomRules) evalError(parent, ctx context.Context, q customQuery, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if parent.Err() == nil {
			return c.errorf("%s: evaluation stopped after the %s limit: %w", q.ref, customTimeout, ctxErr)
		}
		return c.errorf("%s: evaluation stopped: %w", q.ref, ctxErr)
	}
	if topdown.IsCancel(err) {
		return c.errorf("%s: evaluation stopped: %w", q.ref, err)
	}
	return c.errorf("%s: %w", q.ref, err)
}

// findings reads one rule's value: a set of finding objects.
func (c *CustomRules) findings(q customQuery, v any) ([]Finding, error) {
	t, ok := v.(*ast.Term)
	if !ok {
		return nil, c.errorf("%s: unexpected result %T", q.ref, v)
	}
	set, ok := t.Value.(ast.Set)
	if !ok {
		return nil, c.errorf("%s: must be a set of findings (%s contains {...} if ...), got %s %s",
			q.ref, string(q.ref[len(q.ref)-1].Value.(ast.String)), ast.ValueName(t.Value), customShow(t))
	}
	out := make([]Finding, 0, set.Len())
	var bad error
	set.Until(func(e *ast.Term) bool {
		f, err := customFinding(e)
		if err != nil {
			bad = c.errorf("%s: finding %s: %s", q.ref, customShow(e), err)
			return true
		}
		if !findingCode.MatchString(f.Code) {
			f = invalidFinding(q, f)
		}
		out = append(out, f)
		return false
	})
	return out, bad
}

// customFinding reads one finding: an object with string code and message, optional string
// object and file, optional non-negative integer line (null counts as absent).
func customFinding(t *ast.Term) (Finding, error) {
	obj, ok := t.Value.(ast.Object)
	if !ok {
		return Finding{}, fmt.Errorf("is %s, not an object {code, object, file, line, message}", ast.ValueName(t.Value))
	}
	var f Finding
	var bad error
	str := func(key string, v ast.Value, dst *string) {
		s, ok := v.(ast.String)
		if !ok {
			bad = fmt.Errorf("%s is %s, not a string", key, ast.ValueName(v))
			return
		}
		*dst = string(s)
	}
	has := map[string]bool{}
	obj.Until(func(k, v *ast.Term) bool {
		ks, ok := k.Value.(ast.String)
		if !ok {
			bad = fmt.Errorf("key %s is not a string", k)
			return true
		}
		key := string(ks)
		has[key] = true
		if _, null := v.Value.(ast.Null); null && key != "code" && key != "message" {
			return false
		}
		switch key {
		case "code":
			str(key, v.Value, &f.Code)
		case "message":
			str(key, v.Value, &f.Message)
		case "object":
			str(key, v.Value, &f.Object)
		case "file":
			str(key, v.Value, &f.File)
		case "line":
			line, ok := -1, false
			if n, isNum := v.Value.(ast.Number); isNum {
				line, ok = n.Int()
			}
			if !ok || line < 0 {
				bad = fmt.Errorf("line is %s, not a non-negative integer", v)
				return true
			}
			f.Line = line
		default:
			bad = fmt.Errorf("unknown key %q (a finding has code, object, file, line and message)", key)
		}
		return bad != nil
	})
	if bad != nil {
		return Finding{}, bad
	}
	for _, key := range []string{"code", "message"} {
		if !has[key] {
			return Finding{}, fmt.Errorf("has no %s (a finding has a string code and message; object, file and line are optional)", key)
		}
	}
	if f.Code == "" {
		return Finding{}, errors.New("code is empty")
	}
	return f, nil
}

// findingCode is the form of a finding's code. Codes are printed as they are in every output
// (a pull-request comment, a terminal), so a custom rule's code must be one.
var findingCode = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// CodeInvalidFinding replaces the code of a custom rule's finding whose code is not of the form
// of findingCode. The finding stays where it was (an invalid deny is still a deny), with its
// object, file and line; its message says which rule gave what code.
const CodeInvalidFinding = "invalid-finding"

// invalidFinding is f, from rule q, with its code replaced by invalid-finding and quoted (Go
// syntax, cut short) into the message.
func invalidFinding(q customQuery, f Finding) Finding {
	code := f.Code
	if r := []rune(code); len(r) > 80 {
		code = string(r[:80]) + "..."
	}
	f.Message = fmt.Sprintf("%s gave a finding with the code %q, which is not a finding code (lowercase letters, digits and '-', at most 64, starting with a letter or digit): %s",
		q.ref, code, f.Message)
	f.Code = CodeInvalidFinding
	return f
}

// customShow is a term for an error message, cut short.
func customShow(t *ast.Term) string {
	const max = 200
	s := t.String()
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "..."
	}
	return s
}
