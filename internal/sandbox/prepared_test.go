package sandbox

import (
	"errors"
	"os"
	"runtime"
	"syscall"
	"testing"
)

// A Prepared rule set confines every thread it is applied to, as often as
// asked, and only those threads.
func TestPreparedConfinesEachThread(t *testing.T) {
	requireLandlock(t)
	tr := newTree(t)
	r, err := Build(tr.spec())
	if err != nil {
		t.Fatal(err)
	}
	p, err := Prepare(r)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := 0; i < 3; i++ {
		result := make(chan [2]error)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			if err := p.Restrict(); err != nil {
				result <- [2]error{err, err}
				return
			}
			_, hidden := os.ReadFile(tr.secret)
			_, sibling := os.ReadFile(tr.sibling)
			result <- [2]error{hidden, sibling}
		}()
		got := <-result
		if !errors.Is(got[0], syscall.EACCES) {
			t.Errorf("thread %d read the hidden %s: %v", i, tr.secret, got[0])
		}
		if got[1] != nil {
			t.Errorf("thread %d could not read %s: %v", i, tr.sibling, got[1])
		}
	}
	if _, err := os.ReadFile(tr.secret); err != nil {
		t.Errorf("the test itself was confined: %v", err)
	}
}
