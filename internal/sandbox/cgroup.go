package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Cgroup is the agent's own cgroup (v2): the guard starts the agent in it
// (clone3's CLONE_INTO_CGROUP, so not one instruction of the agent runs
// outside it), and writing cgroup.kill kills every process in it at once,
// whatever it forks meanwhile (Linux 5.14).
type Cgroup struct {
	Dir string
	fd  int // the directory, opened; -1 in the launcher
}

// noCgroupForTest makes NewCgroup make none (SetNoCgroupForTest).
var noCgroupForTest atomic.Bool

// SetNoCgroupForTest makes NewCgroup return nil, as where no cgroup can be
// made: tests of the guard alone use it.
func SetNoCgroupForTest() { noCgroupForTest.Store(true) }

// NewCgroup makes the cgroup name beneath this process's own, where this
// process may: as root, or in a cgroup delegated to the user (a systemd
// user session's). It returns nil, and no error, where none can be made:
// no cgroup v2, not writable, a kernel without cgroup.kill.
func NewCgroup(name string) *Cgroup {
	if noCgroupForTest.Load() {
		return nil
	}
	own, err := ownCgroup()
	if err != nil {
		return nil
	}
	dir := filepath.Join(own, name)
	if err := unix.Mkdir(dir, 0o755); err != nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "cgroup.kill")); err != nil {
		unix.Rmdir(dir)
		return nil
	}
	return &Cgroup{Dir: dir, fd: -1}
}

// openCgroup opens dir, which must be a directory of a cgroup v2
// hierarchy, for the guard.
func openCgroup(dir string) (*Cgroup, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening the agent's cgroup: %w", err)
	}
	var fs unix.Statfs_t
	if err := unix.Fstatfs(fd, &fs); err != nil || fs.Type != unix.CGROUP2_SUPER_MAGIC {
		unix.Close(fd)
		return nil, fmt.Errorf("%s is not a cgroup v2 directory", dir)
	}
	return &Cgroup{Dir: dir, fd: fd}, nil
}

// Kill kills every process in the cgroup.
func (c *Cgroup) Kill() {
	_ = os.WriteFile(filepath.Join(c.Dir, "cgroup.kill"), []byte("1"), 0)
}

// Remove removes the cgroup once no process is left in it, waiting a
// second at most for the ones killed to go.
func (c *Cgroup) Remove() {
	for deadline := time.Now().Add(time.Second); ; time.Sleep(time.Millisecond) {
		err := unix.Rmdir(c.Dir)
		if err == nil || errors.Is(err, unix.ENOENT) || !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return
		}
	}
}

// ownCgroup is this process's cgroup v2 directory: the "0::PATH" line of
// /proc/self/cgroup, beneath where the v2 hierarchy is mounted.
func ownCgroup() (string, error) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	rel := ""
	for _, line := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			rel = p
		}
	}
	if !strings.HasPrefix(rel, "/") {
		return "", errors.New("no cgroup v2")
	}
	mount, root, err := cgroup2Mount()
	if err != nil {
		return "", err
	}
	// The mount shows the hierarchy from root down.
	sub, ok := strings.CutPrefix(rel, root)
	if !ok || root != "/" && sub != "" && sub[0] != '/' {
		return "", errors.New("this process's cgroup is outside the mounted hierarchy")
	}
	return filepath.Join(mount, sub), nil
}

// cgroup2Mount finds where the cgroup v2 hierarchy is mounted, and the
// directory of the hierarchy the mount shows, from /proc/self/mountinfo.
func cgroup2Mount() (mount, root string, err error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPER
		fields := bytes.Fields(sc.Bytes())
		sep := -1
		for i, f := range fields {
			if string(f) == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || sep+1 >= len(fields) || string(fields[sep+1]) != "cgroup2" {
			continue
		}
		return unescapeMountinfo(string(fields[4])), unescapeMountinfo(string(fields[3])), nil
	}
	return "", "", errors.New("no cgroup v2 hierarchy is mounted")
}

// unescapeMountinfo undoes the kernel's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
