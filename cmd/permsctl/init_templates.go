package main

// The starter repository of permsctl init. Rendered with --instance prod --owner owner into a
// directory given as examples/ci, it is examples/ci byte for byte (TestInitIsExamplesCI); the
// CI workflow is not a template but examples/ci's own file, embedded.

const initCatalog = `# What exists to be granted. Start small; plan warns about a permission that needs another.
apiVersion: permsets/v1
kind: Catalog
features:
  people:
    description: Profiles
    actions: [read, edit, export]
  settings:
    description: Settings
    actions: [read, edit]
  users:
    description: Control panel users
    actions: [read, manage]
  permset:
    description: Permission sets themselves
    actions: [assign, edit]
requires:
  people=export: [people=read]
`

const initInstance = `apiVersion: permsets/v1
kind: Instance
id: {{yaml .Instance}}
name: {{yaml .InstanceName}}
package: standard
limits:
  maxCustomSets: 5
`

const initAdmin = `# Every instance has this set; it cannot be changed once applied.
apiVersion: permsets/v1
kind: PermissionSet
id: admin
instances: [{{yaml .Instance}}]
name: Admin
builtin: true
fixed: true
permissions: ["*=*"]
`

const initStaffer = `# Day-to-day access: no settings, no user management.
apiVersion: permsets/v1
kind: PermissionSet
id: staffer
instances: [{{yaml .Instance}}]
name: Staffer
builtin: true
permissions: [people=read, people=edit]
`

const initUser = `apiVersion: permsets/v1
kind: User
id: {{yaml .Owner}}
name: The owner
logins: [{{yaml .Owner}}]
systemAdmin: true
`

const initAssignment = `apiVersion: permsets/v1
kind: Assignment
id: {{yaml .AssignmentID}}
instance: {{yaml .Instance}}
users: [{{yaml .Owner}}]
permissionSets: [admin]
reason: Instance owner
`

const initTest = `# Decisions this repository must keep making. permsctl test runs them, and every plan runs
# those of the base and of the pull request: a change that breaks one is denied (test-failed).
# Add a case for each access that matters (docs/config.md, Test).
apiVersion: permsets/v1
kind: Test
id: access
instance: {{yaml .Instance}}
cases:
  - user: {{yaml .Owner}}
    permission: settings=edit
    expect: allow
    via: [admin]
  - id: undeclared-user
    user: nobody
    permission: people=read
    expect: deny
whoCan:
  - permission: users=manage
    users: [{{yaml .Owner}}]
`

const initReadme = "# {{.Dir}}: plan on pull requests, apply on main\n" + `
A minimal config repository (one instance, the builtin ` + "`admin` and `staffer`" + ` sets, an owner who
is a system admin) with the CI workflow a forge runs for it:
[` + "`.github/workflows/permsets.yml`" + `](.github/workflows/permsets.yml) (GitHub Actions syntax; the
steps translate to any forge).

- **On a pull request**: ` + "`permsctl plan --base origin/live --actor <the pull request's author>\n  --format markdown`" + `, posted as a comment, and the job fails on any deny (make it a required
  check). ` + "`permsctl test --format github`" + ` runs the decision tests of ` + "`tests/`" + ` and annotates
  each failure on its line; plan runs them too, from the base and the pull request.
- **On main**: ` + "`permsctl apply --remote origin`" + `: plans main again against the remote's ` + "`live`" + `,
  refuses on any deny, pushes main to ` + "`live`" + ` as a compare-and-swap, with a git note
  (` + "`refs/notes/permsets`" + `) recording who applied what, when.
- **The first time**: with no ` + "`live`" + ` branch yet, a system admin runs once
  ` + "`permsctl apply --remote origin --actor {{.Owner}} --bootstrap`" + ` (there is nothing to judge the actor
  rules against before the first revision).

## Trust model

A pull request changes who may do what, so nothing in it may decide how it is judged:

- **The actor is the forge's pull-request author** (` + "`github.event.pull_request.user.login`" + `),
  matched against the ` + "`logins`" + ` of the User documents *of the base*, and only their logins: not
  their ids or emails, so whoever registers a forge account named like an admin's id is not that
  admin. It is never a commit's author or committer: anyone can write those. An author no User
  declares is denied (` + "`actor-unknown`" + `).
- **The judge comes from the base branch**: the workflow runs as ` + "`pull_request_target`" + ` (the base
  branch's copy of this file, not the pull request's), and ` + "`permsctl`" + ` is installed at the version
  the base branch pins in ` + "`.permsets-version`" + `. The built-in rules are embedded in that binary.
- **The pull request is data**: it is checked out with full history and no credentials, and only
  read by ` + "`permsctl`" + `. Its custom rules (` + "`policies/`" + `) are compiled with no I/O built-in and apply
  next to those of ` + "`live`" + `, so deleting a rule in the same pull request does not escape it.
- **Rights are judged on the base** (` + "`live`" + `): a pull request that grants its author a right does
  not give them the right to make that pull request.
- **Apply trusts the check**: ` + "`apply`" + ` re-plans and refuses any deny, but judges no actor (the
  merger is not the author). Protect ` + "`main`" + `: require the plan check and forbid direct pushes.

The example validates (` + "`permsctl validate {{.Dir}}`" + `), and a first plan of it is
` + "`permsctl plan {{.Dir}} --base empty --actor {{.Owner}} --bootstrap`" + `.
`
