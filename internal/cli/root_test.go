package cli

import (
	"testing"
)

// Main builds only the command args name; the table it picks from must
// name each command as its Use does.
func TestCommandsTableNamesEachCommand(t *testing.T) {
	f, _ := newTestFactory(t, "", false)
	for _, c := range commands {
		if got := c.build(f).Name(); got != c.name {
			t.Errorf("commands lists %q, whose command is named %q", c.name, got)
		}
	}
}

func TestCommandWord(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		name  string
		named bool
	}{
		{[]string{"exec", "-i", "X=k", "--", "true"}, "exec", true},
		{[]string{"--dir", "/s", "exec", "--", "true"}, "exec", true},
		{[]string{"--dir=/s", "macaroon", "mint"}, "macaroon", true},
		{[]string{"--dir", "exec", "list"}, "list", true}, // "exec" is --dir's value
		{[]string{"help", "exec"}, "", false},
		{[]string{"exce"}, "", false},
		{[]string{"--help", "exec"}, "", false},
		{[]string{"-v"}, "", false},
		{[]string{"__complete", "ex"}, "", false},
		{nil, "", false},
	} {
		name, named := commandWord(tc.args)
		if name != tc.name || named != tc.named {
			t.Errorf("commandWord(%q) = %q, %v; want %q, %v", tc.args, name, named, tc.name, tc.named)
		}
	}
}

// A command built alone behaves as in the whole tree: the same help, the
// same refusal.
func TestOneCommandAsInTheWholeTree(t *testing.T) {
	for _, args := range [][]string{
		{"exec", "--help"},
		{"macaroon", "mint", "--help"},
		{"exec"},
		{"peek", "a", "b"},
		{"--version"},
	} {
		f1, io1 := newTestFactory(t, "", false)
		code1 := Main(args, f1)
		f2, io2 := newTestFactory(t, "", false)
		root := NewRootCmd(f2)
		root.SetArgs(args)
		code2 := finish(f2, root.Execute())
		if code1 != code2 || io1.out.String() != io2.out.String() || io1.errOut.String() != io2.errOut.String() {
			t.Errorf("llms %q: alone exit %d, out %q, err %q; in the whole tree exit %d, out %q, err %q",
				args, code1, io1.out.String(), io1.errOut.String(), code2, io2.out.String(), io2.errOut.String())
		}
		if io1.out.Len()+io1.errOut.Len() == 0 {
			t.Errorf("llms %q said nothing", args)
		}
	}
}
