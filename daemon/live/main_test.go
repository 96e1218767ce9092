package live

import (
	"os"
	"testing"

	"github.com/permsets/permsets/publish"
)

// The Git source's remotes here are local: they are served in process, as in permsd.
func TestMain(m *testing.M) {
	publish.RegisterFileTransport()
	os.Exit(m.Run())
}
