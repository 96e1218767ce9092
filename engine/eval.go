package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// DecisionPaths are the rules of package permsets that answer queries (docs/engine.md).
var DecisionPaths = []string{"allow", "decision", "effective", "manageable_sets", "who_can"}

// toolPaths are rules prepared beside DecisionPaths for tools: plan's access diff ("access"),
// the AuthZEN resource search ("objects") and the tests that compare the fast table with the
// rules it shortcuts. The Data API answers DecisionPaths only.
var toolPaths = []string{"access", "_decision_by_rule", "_who_can_by_rule", "objects"}

// Evaluator answers decisions over one bundle with prepared queries. It is safe for concurrent
// use; a new revision gets a new Evaluator.
type Evaluator struct {
	bundle *Bundle
	// queries share one read transaction: the store is never written after it is loaded (a new
	// revision gets a new store), so no evaluation opens its own.
	queries map[string]*Query
}

// NewEvaluator loads a bundle into an in-memory store and prepares a query per decision path.
func NewEvaluator(ctx context.Context, b *Bundle) (*Evaluator, error) {
	// The store holds the bundle's index value itself, not a copy: nothing writes to it.
	store := inmem.NewFromASTObject(ast.NewObject([2]*ast.Term{ast.StringTerm(IndexRoot), ast.NewTerm(b.index)}))
	compiler := ast.NewCompiler().WithEnablePrintStatements(false)
	mods := map[string]*ast.Module{}
	for _, m := range b.Modules {
		parsed, err := ast.ParseModuleWithOpts(m.Path, string(m.Raw), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, err
		}
		mods[m.Path] = parsed
	}
	if compiler.Compile(mods); compiler.Failed() {
		return nil, fmt.Errorf("rules: %v", compiler.Errors)
	}
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, err
	}
	e := &Evaluator{bundle: b, queries: map[string]*Query{}}
	for _, p := range append(slices.Clone(DecisionPaths), toolPaths...) {
		ref := ast.DefaultRootRef.Append(ast.StringTerm(PolicyRoot)).Append(ast.StringTerm(p))
		q, err := Prepare(ctx, ref, QueryOptions{Compiler: compiler, Store: store, Txn: txn})
		if err != nil {
			return nil, fmt.Errorf("prepare %s: %w", p, err)
		}
		e.queries[p] = q
	}
	return e, nil
}

// Bundle is the bundle this evaluator answers from.
func (e *Evaluator) Bundle() *Bundle { return e.bundle }

// EvalOptions tune one evaluation.
type EvalOptions struct {
	// Now is the time used when the input has no "time"; zero means the wall clock.
	Now time.Time
}

// Eval evaluates a decision path (one of DecisionPaths) for an input (JSON-like Go values).
func (e *Evaluator) Eval(ctx context.Context, path string, input any, opts EvalOptions) (any, error) {
	v, err := ast.InterfaceToValue(input)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	return e.EvalValue(ctx, path, v, opts)
}

// EvalValue is Eval for an input already converted to an ast.Value (the fast path of servers).
func (e *Evaluator) EvalValue(ctx context.Context, path string, input ast.Value, opts EvalOptions) (any, error) {
	q, ok := e.queries[path]
	if !ok {
		return nil, fmt.Errorf("unknown decision path %q", path)
	}
	return q.Eval(ctx, input, opts.Now) // undefined is nil: e.g. who_can without an instance
}
