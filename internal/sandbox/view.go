package sandbox

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// enterView makes r.View in a mount namespace of the calling thread's own
// (locked, and about to exec the program), before the rules are prepared:
// Landlock names files by their inodes, so rules opened after the mounts
// name what the program sees — /tmp's inode is then the private temp dir,
// writable; /dev/shm the fresh one. It returns "" or a note saying what the
// program goes without, and why. Whatever part fails, the rules hold: they
// were built so that the shared view is safe too.
func enterView(r *Rules) string {
	v := r.View
	var missing []string
	fallback := func(why string) string {
		return "no private /tmp for the agent (" + why + "): in /tmp and /var/tmp it may create files and directories and write them, " +
			"but not remove or rename one, nor make a socket, FIFO or symbolic link there; its own temp dir is $TMPDIR; " +
			"stat of a hidden path shows its size and times"
	}
	if !namespaces.Load() {
		return fallback("mount namespaces are switched off")
	}
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fallback(fmt.Sprintf("the kernel refuses a mount namespace here: %v; unprivileged user namespaces are off, or restricted as by AppArmor on Ubuntu 24.04", err))
	}
	// Nothing mounted from here on may reach the namespace this came from.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return fallback(fmt.Sprintf("making its mounts its own: %v", err))
	}
	cwd, _ := os.Getwd()

	// What must stay reachable is opened before anything is covered.
	tmp, keep := -1, map[string]int{}
	defer func() {
		for _, fd := range keep {
			unix.Close(fd)
		}
		if tmp >= 0 {
			unix.Close(tmp)
		}
	}()
	tmpWhy := v.NoTmp
	if v.Tmp != "" {
		fd, err := unix.Open(v.Tmp, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			tmpWhy = fmt.Sprintf("opening %s: %v", v.Tmp, err)
		}
		tmp = fd
		for _, k := range v.Keep {
			fd, err := unix.Open(k, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				tmpWhy = fmt.Sprintf("opening %s: %v", k, err)
				break
			}
			keep[k] = fd
		}
	}

	// Placeholders, on a scratch tmpfs that the agent's own /dev/shm
	// covers below: an empty directory and an empty file, no permissions.
	dir, file, err := placeholders()
	if err != nil {
		missing = append(missing, fmt.Sprintf("stat of a hidden path shows its size and times (placeholders: %v)", err))
	}

	if tmp >= 0 && tmpWhy == "" {
		if err := privateTmp(tmp, keep); err != nil {
			tmpWhy = err.Error()
		}
	}
	if tmpWhy != "" {
		missing = append(missing, fallback(tmpWhy))
	}

	if dir >= 0 {
		var failed []string
		for _, h := range r.Hidden {
			if tmpWhy == "" && within(h, "/tmp") && !slices.ContainsFunc(v.Keep, func(k string) bool { return within(h, k) }) {
				continue // out of sight already
			}
			if err := cover(h, dir, file); err != nil {
				failed = append(failed, h)
			}
		}
		unix.Close(dir)
		unix.Close(file)
		if len(failed) > 0 {
			missing = append(missing, "stat shows the size and times of "+strings.Join(failed, ", "))
		}
	}

	// A /dev/shm of its own, over the scratch; without it, the shared one
	// comes back.
	if err := unix.Mount("llms-shm", "/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		unix.Unmount("/dev/shm", unix.MNT_DETACH)
		missing = append(missing, fmt.Sprintf("no private /dev/shm (%v): it may replace your POSIX shared memory and semaphores", err))
	}
	if cwd != "" {
		_ = unix.Chdir(cwd) // the working directory as the new mounts show it
	}
	return strings.Join(missing, "; ")
}

// placeholders mounts a small tmpfs over /dev/shm and makes in it an
// empty directory and an empty file, mode 0, returned as O_PATH
// descriptors (-1 on failure).
func placeholders() (dir, file int, err error) {
	dir, file = -1, -1
	if err := unix.Mount("llms-placeholders", "/dev/shm", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=16k,mode=0755"); err != nil {
		return -1, -1, err
	}
	if err := unix.Mkdir("/dev/shm/d", 0); err != nil {
		return -1, -1, err
	}
	fd, err := unix.Open("/dev/shm/f", unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, -1, err
	}
	unix.Close(fd)
	if dir, err = unix.Open("/dev/shm/d", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		return -1, -1, err
	}
	if file, err = unix.Open("/dev/shm/f", unix.O_PATH|unix.O_CLOEXEC, 0); err != nil {
		unix.Close(dir)
		return -1, -1, err
	}
	return dir, file, nil
}

// privateTmp mounts the directory tmp over /tmp, and each kept path back
// at its place in it. If a kept path cannot be, /tmp is given back: the
// agent's working tree may be one of them.
func privateTmp(tmp int, keep map[string]int) error {
	if err := unix.Mount(fdPath(tmp), "/tmp", "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("mounting its temp dir over /tmp: %v", err)
	}
	for _, k := range slices.Sorted(maps.Keys(keep)) {
		if err := mountBack(k, keep[k]); err != nil {
			unix.Unmount("/tmp", unix.MNT_DETACH)
			return fmt.Errorf("keeping %s: %v", k, err)
		}
	}
	return nil
}

// mountBack mounts the file or directory fd refers to at path, inside the
// private /tmp, making the place for it.
func mountBack(path string, fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if err := unix.Mkdir(path, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return err
		}
	} else {
		f, err := unix.Open(path, unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return err
		}
		unix.Close(f)
	}
	return unix.Mount(fdPath(fd), path, "", unix.MS_BIND|unix.MS_REC, "")
}

// cover mounts the empty directory (or file) over the hidden path h,
// read-only. A symbolic link is left alone: hidden paths are resolved.
func cover(h string, dir, file int) error {
	var st unix.Stat_t
	if err := unix.Lstat(h, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	src := file
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return nil
	case unix.S_IFDIR:
		src = dir
	}
	if err := unix.Mount(fdPath(src), h, "", unix.MS_BIND, ""); err != nil {
		return err
	}
	return unix.Mount("", h, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
}

func fdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }
