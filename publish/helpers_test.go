package publish_test

import (
	"testing"

	"github.com/permsets/permsets/internal/testutil"
)

// testRepo is a Git repository of the tests, with the moves the apply tests make in clones.
type testRepo struct {
	*testutil.GitRepo
	t *testing.T
}

func newRepo(t *testing.T) *testRepo { return &testRepo{testutil.NewGitRepo(t), t} }
