package pinned

import "testing"

func BenchmarkIsSystem(b *testing.B) {
	for b.Loop() {
		IsSystem("/usr/bin/printenv")
	}
}

func BenchmarkFindOpen(b *testing.B) {
	for b.Loop() {
		p, err := Find("printenv", "/")
		if err != nil {
			b.Fatal(err)
		}
		prog, err := Open(p, []string{"/tmp"})
		if err != nil {
			b.Fatal(err)
		}
		prog.Close()
	}
}

func BenchmarkDirs(b *testing.B) {
	for b.Loop() {
		Dirs()
	}
}
