package engine

import (
	"context"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Query is a Rego query prepared once and evaluated many times: the one way permsets runs Rego
// (the decision paths of an Evaluator, plan's change rules, the custom rules of a config
// repository). It is safe for concurrent use.
type Query struct {
	prepared rego.PreparedEvalQuery
	txn      storage.Transaction
}

// QueryOptions say what a query is prepared over.
type QueryOptions struct {
	// Compiler holds the compiled modules, with the capabilities they were compiled with (the
	// query is compiled by it too).
	Compiler *ast.Compiler
	// Store holds the data the rules read, as AST values (read without conversion).
	Store storage.Store
	// Txn, when set, is one read transaction of Store shared by every evaluation, for a store
	// that is never written once loaded; nil: each evaluation opens its own.
	Txn storage.Transaction
	// Terms gives results as *ast.Term rather than JSON-like Go values.
	Terms bool
}

// noMetrics: no evaluation collects metrics.
var noMetrics = metrics.NoOp()

// Prepare compiles the query ref (data.permsets.allow, say) over opts.
func Prepare(ctx context.Context, ref ast.Ref, opts QueryOptions) (*Query, error) {
	args := []func(*rego.Rego){
		rego.ParsedQuery(ast.NewBody(ast.NewExpr(ast.NewTerm(ref)))),
		rego.Compiler(opts.Compiler),
		rego.Store(opts.Store),
		rego.StoreReadAST(true),
		rego.EnablePrintStatements(false),
	}
	if opts.Terms {
		args = append(args, rego.GenerateJSON(func(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }))
	}
	pq, err := rego.New(args...).PrepareForEval(ctx)
	if err != nil {
		return nil, err
	}
	return &Query{prepared: pq, txn: opts.Txn}, nil
}

// Eval evaluates the query for an input (nil: none) at the time now (zero: the wall clock),
// stopping when ctx is done. The value is nil when the query is undefined.
func (q *Query) Eval(ctx context.Context, input ast.Value, now time.Time) (any, error) {
	// Cancellation through context.AfterFunc rather than the goroutine rego starts per
	// evaluation otherwise; no metrics are collected.
	cancel := topdown.NewCancel()
	stop := context.AfterFunc(ctx, cancel.Cancel)
	defer stop()
	opts := make([]rego.EvalOption, 0, 5)
	opts = append(opts, rego.EvalExternalCancel(cancel), rego.EvalMetrics(noMetrics))
	if input != nil {
		opts = append(opts, rego.EvalParsedInput(input))
	}
	if q.txn != nil {
		opts = append(opts, rego.EvalTransaction(q.txn))
	}
	if !now.IsZero() {
		opts = append(opts, rego.EvalTime(now))
	}
	rs, err := q.prepared.Eval(ctx, opts...)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil
	}
	return rs[0].Expressions[0].Value, nil
}
