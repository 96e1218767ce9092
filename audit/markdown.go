package audit

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// maxMarkdownLines bounds each list of the markdown report (forges and wikis cap a page's size);
// the JSON report has everything.
const maxMarkdownLines = 300

const moreInJSON = "see the JSON report (`permsctl audit --format json`)"

// WriteMarkdown writes the report for people: a summary table of counts first, then the
// repository's system admins, then a section per instance with its findings as lists and its
// holdings as a table in a collapsed section. Text from the config is escaped.
func WriteMarkdown(w io.Writer, r *Report) error {
	b := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintf(b, "# permsets audit\n\n")
	fmt.Fprintf(b, "**%s**\n\n", mdEscape(r.SummaryLine()))
	fmt.Fprintf(b, "- Revision: %s\n", mdEscape(r.revisionText()))
	fmt.Fprintf(b, "- Now: %s\n", mdEscape(r.nowText()))
	fmt.Fprintf(b, "- Expiring within: %s\n", mdEscape(r.ExpiringWithin))

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
		row(mdCode(in.ID), in.Summary)
	}
	row("**all**", r.Summary)

	b.WriteString("\n## System admins\n\n")
	b.WriteString("System admins may change anything in the repository (roles, instances, the catalog, users).\n\n")
	list(b, len(r.SystemAdmins), func(i int) string {
		a := r.SystemAdmins[i]
		s := mdCode(a.User)
		if a.Name != "" {
			s += " (" + mdEscape(a.Name) + ")"
		}
		s += ", " + mdCode(at(a.File, a.Line))
		if a.Suspended {
			s += ", suspended"
		}
		return s
	})

	for _, in := range r.Instances {
		fmt.Fprintf(b, "\n## Instance %s: %s\n", mdCode(in.ID), mdEscape(in.Name))
		violations, exempt := in.Separations()
		section(b, "Separation-of-duties violations", len(violations), func(i int) string { return mdSeparation(violations[i]) })
		section(b, "Exempt from separation of duties (`*=*`)", len(exempt), func(i int) string { return mdSeparation(exempt[i]) })
		section(b, "Privileged holders (wildcard grants)", len(in.PrivilegedHolders), func(i int) string {
			p := in.PrivilegedHolders[i]
			parts := make([]string, len(p.Grants))
			for j, g := range p.Grants {
				perms := make([]string, len(g.Permissions))
				for k, x := range g.Permissions {
					perms[k] = mdCode(x)
				}
				parts[j] = fmt.Sprintf("%s from %s (%s)", strings.Join(perms, ", "), mdCode(g.Set), mdEscape(g.Via))
			}
			s := mdCode(p.User) + ": " + strings.Join(parts, "; ")
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
			return fmt.Sprintf("%s (%s) by %s to %s", mdCode(d.Set), mdEscape(d.Name), mdReference(d), mdUsers(d.Users))
		})
		section(b, "Expired assignments", len(in.ExpiredAssignments), func(i int) string { return mdExpiry(in.ExpiredAssignments[i]) })
		section(b, "Expiring within "+mdEscape(r.ExpiringWithin), len(in.ExpiringAssignments), func(i int) string { return mdExpiry(in.ExpiringAssignments[i]) })
		section(b, "Ineffective permissions", len(in.IneffectivePermissions), func(i int) string {
			f := in.IneffectivePermissions[i]
			missing := make([]string, len(f.Missing))
			for j, m := range f.Missing {
				missing[j] = mdCode(m)
			}
			return fmt.Sprintf("%s: %s from %s lacks %s", mdCode(f.User), mdCode(f.Permission), mdGrants(f.Grants), strings.Join(missing, ", "))
		})
		section(b, "Suspended users still assigned", len(in.SuspendedHolders), func(i int) string {
			s := in.SuspendedHolders[i]
			return fmt.Sprintf("%s holds %s", mdCode(s.User), mdUsers(s.Sets))
		})
		section(b, "Roles without members", len(in.EmptyRoles), func(i int) string {
			e := in.EmptyRoles[i]
			return fmt.Sprintf("%s (%s), %s, would give %s", mdCode(e.Role), mdEscape(e.Name), mdCode(at(e.File, e.Line)), mdUsers(e.Sets))
		})
		section(b, "Sets assigned to nobody", len(in.UnassignedSets), func(i int) string {
			s := in.UnassignedSets[i]
			return fmt.Sprintf("%s (%s), %s", mdCode(s.Set), mdEscape(s.Name), mdCode(at(s.File, s.Line)))
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
				fmt.Fprintf(b, "| %s | | | | nobody | |\n", mdCode(s.Set))
				n++
				continue
			}
			for _, h := range s.Holders {
				if n == maxMarkdownLines {
					break rows
				}
				through := mdEscape(h.Via)
				if h.Assignment != "" {
					through = "assignment " + mdCode(h.Assignment)
				}
				fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", mdCode(s.Set), through, mdCode(at(h.File, h.Line)), mdEscape(h.Expires), h.Status, mdUsersBounded(h.Users))
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
		parts[i] = fmt.Sprintf("%s from %s (%s)", mdCode(g.Permission), mdCode(g.Set), mdEscape(g.Via))
	}
	return fmt.Sprintf("%s holds every permission of **%s** (%s): %s", mdCode(s.User), mdEscape(s.Rule), mdCode(at(s.File, s.Line)), strings.Join(parts, ", "))
}

func mdReference(r Reference) string {
	s := mdEscape(r.Via)
	if r.Assignment != "" {
		s = "assignment " + mdCode(r.Assignment)
	}
	return s + " (" + mdCode(at(r.File, r.Line)) + ")"
}

func mdExpiry(e Expiry) string {
	when := "expired " + mdEscape(e.Expires)
	switch {
	case e.DaysLeft > 0:
		when = fmt.Sprintf("expires %s, in %s", mdEscape(e.Expires), plural(e.DaysLeft, "day"))
	case e.DaysLeft < 0:
		when = fmt.Sprintf("expired %s, %s ago", mdEscape(e.Expires), plural(-e.DaysLeft, "day"))
	}
	return fmt.Sprintf("%s (%s) %s: %s to %s", mdCode(e.Assignment), mdCode(at(e.File, e.Line)), when, mdUsers(e.Sets), mdUsersBounded(e.Users))
}

func mdGrants(gs []Grant) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = fmt.Sprintf("%s (%s)", mdCode(g.Set), mdEscape(g.Via))
	}
	return strings.Join(parts, ", ")
}

func mdUsers(xs []string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = mdCode(x)
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

// mdCode puts text in a code span, or "" when there is none; backticks inside are replaced and
// pipes escaped (a code span in a table cell).
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(strings.ReplaceAll(s, "`", "'"), "|", "\\|") + "`"
}

// mdEscape keeps text from the config (names, reasons) from becoming markup or HTML.
func mdEscape(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "<", "&lt;", ">", "&gt;", "*", "\\*", "_", "\\_", "`", "\\`", "|", "\\|",
		"[", "\\[", "]", "\\]", "#", "\\#", "\n", " ", "\r", " ")
	return r.Replace(s)
}
