package audit

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/permsets/permsets/internal/textfmt"
)

// maxMarkdownLines bounds each list of the markdown report (forges and wikis cap a page's size);
// the JSON report has everything.
const maxMarkdownLines = 300

const moreInJSON = "see the JSON report (`permsctl audit --format json`)"

// WriteMarkdown writes the report for people: a summary table of counts first, then the
// repository's system admins, then a section per instance with its findings as lists and its
// holdings as a table in a collapsed section. Every string from the config (ids, names, rule
// names, reasons, file names) goes through internal/textfmt, so none can become markup, HTML
// or a link, nor end its line, list item or table row.
func WriteMarkdown(w io.Writer, r *Report) error {
	b := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintf(b, "# permsets audit\n\n")
	fmt.Fprintf(b, "**%s**\n\n", textfmt.Markdown(r.SummaryLine()))
	fmt.Fprintf(b, "- Revision: %s\n", textfmt.Markdown(r.revisionText()))
	fmt.Fprintf(b, "- Now: %s\n", textfmt.Markdown(r.nowText()))
	fmt.Fprintf(b, "- Expiring within: %s\n", textfmt.Markdown(r.ExpiringWithin))

	b.WriteString("\n## Summary\n\n")
	b.WriteString("| instance | sets | holdings | users | separation of duties | exempt (`*=*`) | privileged | disabled assigned | expired | expiring | ineffective | suspended | empty roles | unassigned sets |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	row := func(name string, c Counts) {
		fmt.Fprintf(b, "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d |\n", name,
			c.Sets, c.Holdings, c.Holders, c.SeparationOfDuties, c.SeparationOfDutiesExempt, c.PrivilegedHolders,
			c.DisabledSetsAssigned, c.ExpiredAssignments, c.ExpiringAssignments, c.IneffectivePermissions,
			c.SuspendedHolders, c.EmptyRoles, c.UnassignedSets)
	}
	for i, in := range r.Instances {
		if i == maxMarkdownLines {
			fmt.Fprintf(b, "| ... and %d more instances: %s | | | | | | | | | | | | | |\n", len(r.Instances)-i, moreInJSON)
			break
		}
		row(textfmt.MarkdownCode(in.ID), in.Summary)
	}
	row("**all**", r.Summary)

	b.WriteString("\n## System admins\n\n")
	b.WriteString("System admins may change anything in the repository (roles, instances, the catalog, users).\n\n")
	list(b, len(r.SystemAdmins), func(i int) string {
		a := r.SystemAdmins[i]
		s := textfmt.MarkdownCode(a.User)
		if a.Name != "" {
			s += " (" + textfmt.Markdown(a.Name) + ")"
		}
		s += ", " + textfmt.MarkdownCode(at(a.File, a.Line))
		if a.Suspended {
			s += ", suspended"
		}
		return s
	})

	for _, in := range r.Instances {
		fmt.Fprintf(b, "\n## Instance %s: %s\n", textfmt.MarkdownCode(in.ID), textfmt.Markdown(in.Name))
		violations, exempt := in.Separations()
		section(b, "Separation-of-duties violations", len(violations), func(i int) string { return mdSeparation(violations[i]) })
		section(b, "Exempt from separation of duties (`*=*`)", len(exempt), func(i int) string { return mdSeparation(exempt[i]) })
		section(b, "Privileged holders (wildcard grants)", len(in.PrivilegedHolders), func(i int) string {
			p := in.PrivilegedHolders[i]
			parts := make([]string, len(p.Grants))
			for j, g := range p.Grants {
				perms := make([]string, len(g.Permissions))
				for k, x := range g.Permissions {
					perms[k] = textfmt.MarkdownCode(x)
				}
				parts[j] = fmt.Sprintf("%s from %s (%s)", strings.Join(perms, ", "), textfmt.MarkdownCode(g.Set), textfmt.Markdown(g.Via))
			}
			s := textfmt.MarkdownCode(p.User) + ": " + strings.Join(parts, "; ")
			if p.Superuser {
				s += " — superuser, exempt from separation of duties"
			}
			if p.SystemAdmin {
				s += " — system admin"
			}
			return s
		})
		section(b, "Disabled sets still assigned", len(in.DisabledSetsAssigned), func(i int) string {
			d := in.DisabledSetsAssigned[i]
			return fmt.Sprintf("%s (%s) by %s to %s", textfmt.MarkdownCode(d.Set), textfmt.Markdown(d.Name), mdReference(d), mdUsers(d.Users))
		})
		section(b, "Expired assignments", len(in.ExpiredAssignments), func(i int) string { return mdExpiry(in.ExpiredAssignments[i]) })
		section(b, "Expiring within "+textfmt.Markdown(r.ExpiringWithin), len(in.ExpiringAssignments), func(i int) string { return mdExpiry(in.ExpiringAssignments[i]) })
		section(b, "Ineffective permissions", len(in.IneffectivePermissions), func(i int) string {
			f := in.IneffectivePermissions[i]
			missing := make([]string, len(f.Missing))
			for j, m := range f.Missing {
				missing[j] = textfmt.MarkdownCode(m)
			}
			return fmt.Sprintf("%s: %s from %s lacks %s", textfmt.MarkdownCode(f.User), textfmt.MarkdownCode(f.Permission), mdGrants(f.Grants), strings.Join(missing, ", "))
		})
		section(b, "Suspended users still assigned", len(in.SuspendedHolders), func(i int) string {
			s := in.SuspendedHolders[i]
			return fmt.Sprintf("%s holds %s", textfmt.MarkdownCode(s.User), mdUsers(s.Sets))
		})
		section(b, "Roles without members", len(in.EmptyRoles), func(i int) string {
			e := in.EmptyRoles[i]
			return fmt.Sprintf("%s (%s), %s, would give %s", textfmt.MarkdownCode(e.Role), textfmt.Markdown(e.Name), textfmt.MarkdownCode(at(e.File, e.Line)), mdUsers(e.Sets))
		})
		section(b, "Sets assigned to nobody", len(in.UnassignedSets), func(i int) string {
			s := in.UnassignedSets[i]
			return fmt.Sprintf("%s (%s), %s", textfmt.MarkdownCode(s.Set), textfmt.Markdown(s.Name), textfmt.MarkdownCode(at(s.File, s.Line)))
		})
		fmt.Fprintf(b, "\n<details><summary>Holdings: %s held by %s</summary>\n\n", plural(in.Summary.Holdings, "holding"), plural(in.Summary.Holders, "user"))
		b.WriteString("| set | through | where | expires | status | users |\n|---|---|---|---|---|---|\n")
		n := 0
	rows:
		for _, s := range in.Sets {
			if len(s.Holders) == 0 {
				if n == maxMarkdownLines {
					break rows
				}
				fmt.Fprintf(b, "| %s | | | | nobody | |\n", textfmt.MarkdownCode(s.Set))
				n++
				continue
			}
			for _, h := range s.Holders {
				if n == maxMarkdownLines {
					break rows
				}
				through := textfmt.Markdown(h.Via)
				if h.Assignment != "" {
					through = "assignment " + textfmt.MarkdownCode(h.Assignment)
				}
				fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", textfmt.MarkdownCode(s.Set), through, textfmt.MarkdownCode(at(h.File, h.Line)), textfmt.Markdown(h.Expires), h.Status, mdUsersBounded(h.Users))
				n++
			}
		}
		if total := holdingRows(in); n < total {
			fmt.Fprintf(b, "| ... and %d more rows: %s | | | | | |\n", total-n, moreInJSON)
		}
		b.WriteString("\n</details>\n")
	}
	return b.Flush()
}

func holdingRows(in *Instance) int {
	n := 0
	for _, s := range in.Sets {
		n += max(1, len(s.Holders))
	}
	return n
}

func section(b *bufio.Writer, title string, n int, line func(i int) string) {
	fmt.Fprintf(b, "\n### %s (%d)\n\n", title, n)
	list(b, n, line)
}

func list(b *bufio.Writer, n int, line func(i int) string) {
	if n == 0 {
		b.WriteString("None.\n")
		return
	}
	for i := range n {
		if i == maxMarkdownLines {
			fmt.Fprintf(b, "- ... and %d more: %s\n", n-i, moreInJSON)
			break
		}
		fmt.Fprintf(b, "- %s\n", line(i))
	}
}

func mdSeparation(s Separation) string {
	parts := make([]string, len(s.Grants))
	for i, g := range s.Grants {
		parts[i] = fmt.Sprintf("%s from %s (%s)", textfmt.MarkdownCode(g.Permission), textfmt.MarkdownCode(g.Set), textfmt.Markdown(g.Via))
	}
	return fmt.Sprintf("%s holds every permission of **%s** (%s): %s", textfmt.MarkdownCode(s.User), textfmt.Markdown(s.Rule), textfmt.MarkdownCode(at(s.File, s.Line)), strings.Join(parts, ", "))
}

func mdReference(r Reference) string {
	s := textfmt.Markdown(r.Via)
	if r.Assignment != "" {
		s = "assignment " + textfmt.MarkdownCode(r.Assignment)
	}
	return s + " (" + textfmt.MarkdownCode(at(r.File, r.Line)) + ")"
}

func mdExpiry(e Expiry) string {
	when := "expired " + textfmt.Markdown(e.Expires)
	switch {
	case e.DaysLeft > 0:
		when = fmt.Sprintf("expires %s, in %s", textfmt.Markdown(e.Expires), plural(e.DaysLeft, "day"))
	case e.DaysLeft < 0:
		when = fmt.Sprintf("expired %s, %s ago", textfmt.Markdown(e.Expires), plural(-e.DaysLeft, "day"))
	}
	return fmt.Sprintf("%s (%s) %s: %s to %s", textfmt.MarkdownCode(e.Assignment), textfmt.MarkdownCode(at(e.File, e.Line)), when, mdUsers(e.Sets), mdUsersBounded(e.Users))
}

func mdGrants(gs []Grant) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = fmt.Sprintf("%s (%s)", textfmt.MarkdownCode(g.Set), textfmt.Markdown(g.Via))
	}
	return strings.Join(parts, ", ")
}

func mdUsers(xs []string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = textfmt.MarkdownCode(x)
	}
	return strings.Join(parts, ", ")
}

// maxMarkdownUsers bounds the users listed in one line or cell.
const maxMarkdownUsers = 50

func mdUsersBounded(xs []string) string {
	if len(xs) <= maxMarkdownUsers {
		return mdUsers(xs)
	}
	return fmt.Sprintf("%s and %d more", mdUsers(xs[:maxMarkdownUsers]), len(xs)-maxMarkdownUsers)
}
