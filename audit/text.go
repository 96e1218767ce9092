package audit

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/permsets/permsets/internal/textfmt"
)

// Header lines shared by the text and markdown reports.
func (r *Report) revisionText() string {
	switch {
	case r.Commit != "" && r.Ref != "":
		return fmt.Sprintf("%s (commit %s, revision %s)", r.Ref, textfmt.Short(r.Commit), textfmt.Short(r.Revision))
	case r.Commit != "":
		return fmt.Sprintf("commit %s, revision %s", textfmt.Short(r.Commit), textfmt.Short(r.Revision))
	default:
		return textfmt.Short(r.Revision) + " (working tree)"
	}
}

func (r *Report) nowText() string {
	switch r.NowFrom {
	case NowFromCommit:
		return r.Now + " (the commit's time: --rev without --now)"
	case NowFromFlag:
		return r.Now + " (--now)"
	default:
		return r.Now + " (now)"
	}
}

// SummaryLine is the report's one-line summary.
func (r *Report) SummaryLine() string {
	s := r.Summary
	return fmt.Sprintf("Audit: %s, %s held by %s; %s, %s exempt, %s, %s, %s, %s, %s, %s, %s, %s",
		plural(len(r.Instances), "instance"), plural(s.Holdings, "holding"), plural(s.Holders, "user"),
		plural(s.SeparationOfDuties, "separation-of-duties violation"), plural(s.SeparationOfDutiesExempt, "holder"),
		plural(s.PrivilegedHolders, "privileged holder"), plural(s.DisabledSetsAssigned, "disabled set assigned", "disabled sets assigned"),
		plural(s.ExpiredAssignments, "expired assignment"), plural(s.ExpiringAssignments, "expiring assignment"),
		plural(s.IneffectivePermissions, "ineffective permission"), plural(s.SuspendedHolders, "suspended holder"), plural(s.EmptyRoles, "empty role"),
		plural(s.UnassignedSets, "unassigned set"))
}

func plural(n int, one string, many ...string) string {
	if n == 1 {
		return "1 " + one
	}
	if len(many) > 0 {
		return fmt.Sprintf("%d %s", n, many[0])
	}
	return fmt.Sprintf("%d %ss", n, one)
}

func at(file string, line int) string {
	if file == "" {
		return ""
	}
	if line > 0 {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}

// holdingText: "direct campaign-staff (assignments/campaign-staff.yaml:5)", with its expiry.
func holdingText(h Holding) string {
	var s string
	if h.Assignment != "" {
		s = "direct " + h.Assignment
	} else {
		s = h.Via
	}
	if w := at(h.File, h.Line); w != "" {
		s += " (" + w + ")"
	}
	if h.Expires != "" {
		s += ", expires " + h.Expires
	}
	if h.Status != StatusActive {
		s += " [" + h.Status + "]"
	}
	return s
}

func grantsText(gs []Grant) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = fmt.Sprintf("%s (%s)", g.Set, g.Via)
	}
	return strings.Join(parts, ", ")
}

func permissionGrantsText(gs []PermissionGrant) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = fmt.Sprintf("%s from %s (%s)", g.Permission, g.Set, g.Via)
	}
	return strings.Join(parts, ", ")
}

func referenceText(r Reference) string {
	s := r.Via
	if r.Assignment != "" {
		s = "assignment " + r.Assignment
	}
	if w := at(r.File, r.Line); w != "" {
		s += " (" + w + ")"
	}
	return s
}

func expiryText(e Expiry) string {
	when := fmt.Sprintf("expired %s", e.Expires)
	switch {
	case e.DaysLeft > 0:
		when = fmt.Sprintf("expires %s, in %s", e.Expires, plural(e.DaysLeft, "day"))
	case e.DaysLeft < 0:
		when = fmt.Sprintf("expired %s, %s ago", e.Expires, plural(-e.DaysLeft, "day"))
	}
	return fmt.Sprintf("%s (%s) %s: %s to %s", e.Assignment, at(e.File, e.Line), when, strings.Join(e.Sets, ", "), strings.Join(e.Users, ", "))
}

func separationText(s Separation) string {
	return fmt.Sprintf("%s holds every permission of %s (%s): %s", s.User, s.Rule, at(s.File, s.Line), permissionGrantsText(s.Grants))
}

func privilegedText(p Privileged) string {
	parts := make([]string, len(p.Grants))
	for i, g := range p.Grants {
		parts[i] = fmt.Sprintf("%s from %s (%s)", strings.Join(g.Permissions, ", "), g.Set, g.Via)
	}
	s := p.User + ": " + strings.Join(parts, "; ")
	var notes []string
	if p.Superuser {
		notes = append(notes, "superuser, exempt from separation of duties")
	}
	if p.SystemAdmin {
		notes = append(notes, "system admin")
	}
	if len(notes) > 0 {
		s += " [" + strings.Join(notes, "; ") + "]"
	}
	return s
}

// WriteText writes the report for a terminal: a header, then a section per instance. Every
// line's text from the config goes through textfmt.Terminal before it is coloured, so none can
// move the cursor, clear the screen or reorder what is shown.
func WriteText(w io.Writer, r *Report, c textfmt.Painter) error {
	b := bufio.NewWriterSize(w, 1<<16)
	safe := textfmt.Terminal
	fmt.Fprintf(b, "%s\n", c.Bold("permsets audit"))
	fmt.Fprintf(b, "Revision: %s\n", safe(r.revisionText()))
	fmt.Fprintf(b, "Now: %s\n", safe(r.nowText()))
	fmt.Fprintf(b, "Expiring within: %s\n", safe(r.ExpiringWithin))
	b.WriteString("\nSystem admins (may change anything in the repository):")
	if len(r.SystemAdmins) == 0 {
		b.WriteString(" none\n")
	} else {
		b.WriteString("\n")
		for _, a := range r.SystemAdmins {
			fmt.Fprintf(b, "  %s %s", c.Yellow("!"), safe(fmt.Sprintf("%s (%s)", a.User, at(a.File, a.Line))))
			if a.Suspended {
				b.WriteString(" [suspended]")
			}
			b.WriteString("\n")
		}
	}
	for _, in := range r.Instances {
		fmt.Fprintf(b, "\n%s\n", c.Bold(safe(fmt.Sprintf("Instance %s (%s): %s, %s held by %s", in.ID, in.Name,
			plural(in.Summary.Sets, "set"), plural(in.Summary.Holdings, "holding"), plural(in.Summary.Holders, "user")))))
		section := func(title string, n int, mark string, line func(i int) string) {
			title = safe(title)
			if n == 0 {
				fmt.Fprintf(b, "  %s: none\n", title)
				return
			}
			fmt.Fprintf(b, "  %s (%d):\n", title, n)
			for i := range n {
				fmt.Fprintf(b, "    %s %s\n", mark, safe(line(i)))
			}
		}
		violations, exempt := in.Separations()
		section("Separation-of-duties violations", len(violations), c.Red("x"), func(i int) string { return separationText(violations[i]) })
		section("Exempt from separation of duties (*=*)", len(exempt), c.Yellow("!"), func(i int) string { return separationText(exempt[i]) })
		section("Privileged holders (wildcard grants)", len(in.PrivilegedHolders), c.Yellow("!"), func(i int) string { return privilegedText(in.PrivilegedHolders[i]) })
		section("Disabled sets still assigned", len(in.DisabledSetsAssigned), c.Yellow("!"), func(i int) string {
			d := in.DisabledSetsAssigned[i]
			return fmt.Sprintf("%s by %s to %s", d.Set, referenceText(d), strings.Join(d.Users, ", "))
		})
		section("Expired assignments", len(in.ExpiredAssignments), c.Yellow("!"), func(i int) string { return expiryText(in.ExpiredAssignments[i]) })
		section("Expiring within "+r.ExpiringWithin, len(in.ExpiringAssignments), c.Yellow("!"), func(i int) string { return expiryText(in.ExpiringAssignments[i]) })
		section("Ineffective permissions", len(in.IneffectivePermissions), c.Yellow("!"), func(i int) string {
			f := in.IneffectivePermissions[i]
			return fmt.Sprintf("%s: %s from %s lacks %s", f.User, f.Permission, grantsText(f.Grants), strings.Join(f.Missing, ", "))
		})
		section("Suspended users still assigned", len(in.SuspendedHolders), c.Yellow("!"), func(i int) string {
			s := in.SuspendedHolders[i]
			return fmt.Sprintf("%s holds %s", s.User, strings.Join(s.Sets, ", "))
		})
		section("Roles without members", len(in.EmptyRoles), "-", func(i int) string {
			e := in.EmptyRoles[i]
			return fmt.Sprintf("%s (%s) would give %s", e.Role, at(e.File, e.Line), strings.Join(e.Sets, ", "))
		})
		section("Sets assigned to nobody", len(in.UnassignedSets), "-", func(i int) string {
			s := in.UnassignedSets[i]
			return fmt.Sprintf("%s (%s)", s.Set, at(s.File, s.Line))
		})
		b.WriteString("  Holdings:\n")
		for _, s := range in.Sets {
			var notes []string
			if s.Builtin {
				notes = append(notes, "builtin")
			}
			if !s.Enabled {
				notes = append(notes, "disabled")
			}
			note := ""
			if len(notes) > 0 {
				note = ", " + strings.Join(notes, ", ")
			}
			fmt.Fprintf(b, "    %s", safe(fmt.Sprintf("%s (%s%s)", s.Set, s.Name, note)))
			if len(s.Holders) == 0 {
				b.WriteString(": nobody\n")
				continue
			}
			b.WriteString("\n")
			for _, h := range s.Holders {
				fmt.Fprintf(b, "      %s\n", safe(holdingText(h)+": "+strings.Join(h.Users, ", ")))
			}
		}
	}
	fmt.Fprintf(b, "\n%s\n", r.SummaryLine())
	return b.Flush()
}
