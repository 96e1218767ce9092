package synth

import (
	"bufio"
	"strings"
)

// feature is one entry of the synthetic catalog.
type feature struct {
	name        string
	description string
	actions     []string
	scoped      bool // has the scope "assigned" with relations [owner, assignee]
}

// The catalog is fixed (it does not depend on the seed), so every generated repository speaks the
// same vocabulary and benchmarks can name permissions in advance.
var features = []feature{
	{"people", "Profiles in the People section", []string{"read", "edit", "create", "export", "delete"}, true},
	{"finances", "Budgets and ledgers", []string{"read", "edit", "export", "approve"}, false},
	{"payments", "Outgoing payments", []string{"read", "create", "approve", "export"}, false},
	{"documents", "Shared documents", []string{"read", "edit", "create", "delete", "share"}, true},
	{"projects", "Projects and milestones", []string{"read", "edit", "create", "archive"}, false},
	{"tasks", "Tasks and checklists", []string{"read", "edit", "create", "delete", "assign"}, true},
	{"reports", "Reports and dashboards", []string{"read", "create", "export"}, false},
	{"invoices", "Customer invoices", []string{"read", "create", "edit", "approve", "export"}, false},
	{"contracts", "Contracts and agreements", []string{"read", "edit", "approve", "sign"}, false},
	{"assets", "Equipment and other assets", []string{"read", "edit", "create", "delete"}, true},
	{"tickets", "Support tickets", []string{"read", "edit", "create", "close", "assign"}, true},
	{"events", "Calendar events", []string{"read", "create", "edit", "delete"}, false},
	{"messages", "Internal messages", []string{"read", "send", "delete"}, false},
	{"settings", "Instance settings", []string{"read", "edit", "export"}, false},
	{"users", "User accounts", []string{"read", "create", "edit", "delete", "impersonate"}, false},
	{"groups", "User groups", []string{"read", "edit", "create", "delete"}, false},
	{"audit", "The audit trail", []string{"read", "export", "purge"}, false},
	{"billing", "Subscription and billing", []string{"read", "edit", "export", "refund"}, false},
	{"inventory", "Stock and warehouses", []string{"read", "edit", "import", "export"}, false},
	{"vendors", "Suppliers and vendors", []string{"read", "edit", "create", "approve"}, false},
	{"permset", "Permission sets themselves", []string{"assign", "edit"}, false},
}

// kv is an ordered map entry: a permission and the permissions it lists.
type kv struct {
	key    string
	values []string
}

// requires only go from a later feature to an earlier one, so they cannot form a cycle.
var requires = []kv{
	{"payments=approve", []string{"finances=read"}},
	{"reports=export", []string{"people=read"}},
	{"invoices=approve", []string{"finances=read", "payments=read"}},
	{"contracts=sign", []string{"projects=read"}},
	{"users=impersonate", []string{"settings=read"}},
	{"audit=purge", []string{"settings=edit", "users=read"}},
	{"billing=refund", []string{"payments=approve", "invoices=read"}},
	{"vendors=approve", []string{"contracts=approve"}},
}

// sodRule is the one separation-of-duties rule; the generated data may well violate it (a plan
// warning or deny, never a validate error).
var sodRule = kv{"pay-and-approve", []string{"payments=create", "payments=approve"}}

func hasAction(f feature, a string) bool {
	for _, x := range f.actions {
		if x == a {
			return true
		}
	}
	return false
}

// implies: delete implies edit, edit and approve imply read, all within one feature (acyclic).
func impliesList() []kv {
	var out []kv
	for _, f := range features {
		if f.name == "permset" {
			continue
		}
		if hasAction(f, "edit") {
			out = append(out, kv{f.name + "=edit", []string{f.name + "=read"}})
		}
		if hasAction(f, "delete") && hasAction(f, "edit") {
			out = append(out, kv{f.name + "=delete", []string{f.name + "=edit"}})
		}
		if hasAction(f, "approve") {
			out = append(out, kv{f.name + "=approve", []string{f.name + "=read"}})
		}
	}
	return out
}

// endpointsList maps the usual CRUD actions to REST routes.
func endpointsList() []kv {
	var out []kv
	for _, f := range features {
		if f.name == "permset" {
			continue
		}
		p := "/" + f.name
		for _, a := range f.actions {
			var routes []string
			switch a {
			case "read":
				routes = []string{"GET " + p, "GET " + p + "/{id}"}
			case "create":
				routes = []string{"POST " + p}
			case "edit":
				routes = []string{"PUT " + p + "/{id}", "PATCH " + p + "/{id}"}
			case "delete":
				routes = []string{"DELETE " + p + "/{id}"}
			case "export":
				routes = []string{"POST " + p + "/export"}
			case "approve":
				routes = []string{"POST " + p + "/{id}/approve"}
			default:
				continue
			}
			out = append(out, kv{f.name + "=" + a, routes})
		}
	}
	return out
}

// requiresKeys is the set of permissions that carry a requirement; inputs expected to be allowed
// avoid them.
func requiresKeys() map[string]bool {
	m := make(map[string]bool, len(requires))
	for _, r := range requires {
		m[r.key] = true
	}
	return m
}

func writeFlowList(w *bufio.Writer, items []string, quote bool) {
	w.WriteByte('[')
	for i, s := range items {
		if i > 0 {
			w.WriteString(", ")
		}
		if quote {
			w.WriteByte('"')
			w.WriteString(s)
			w.WriteByte('"')
		} else {
			w.WriteString(s)
		}
	}
	w.WriteByte(']')
}

func writeCatalog(w *bufio.Writer, header string) {
	w.WriteString(header)
	w.WriteString("apiVersion: permsets/v1\nkind: Catalog\nfeatures:\n")
	for _, f := range features {
		w.WriteString("  " + f.name + ":\n")
		w.WriteString("    description: " + f.description + "\n")
		w.WriteString("    actions: ")
		writeFlowList(w, f.actions, false)
		w.WriteByte('\n')
		if f.scoped {
			w.WriteString("    scopes:\n      assigned:\n")
			w.WriteString("        description: " + strings.ToUpper(f.name[:1]) + f.name[1:] + " the user owns or is assigned to\n")
			w.WriteString("        relations: [owner, assignee]\n")
		}
	}
	section := func(name string, list []kv, quote bool) {
		w.WriteString(name + ":\n")
		for _, e := range list {
			w.WriteString("  " + e.key + ": ")
			writeFlowList(w, e.values, quote)
			w.WriteByte('\n')
		}
	}
	section("requires", requires, false)
	section("implies", impliesList(), false)
	section("endpoints", endpointsList(), true)
	w.WriteString("separationOfDuties:\n  - name: " + sodRule.key + "\n    permissions: ")
	writeFlowList(w, sodRule.values, false)
	w.WriteByte('\n')
}
