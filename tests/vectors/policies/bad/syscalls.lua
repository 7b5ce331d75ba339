return {
  denied_syscalls = {"PTRACE", "ptrace", "bad-name", "ptrace", ""},
}
-- expect: 2: denied_syscalls[1]: expected a system call name such as "ptrace" (lowercase letters, digits and '_'), got "PTRACE" (did you mean 'ptrace'?)
-- expect: 2: denied_syscalls[3]: expected a system call name such as "ptrace" (lowercase letters, digits and '_'), got "bad-name"
-- expect: 2: denied_syscalls[4]: duplicate entry "ptrace" (also denied_syscalls[2])
-- expect: 2: denied_syscalls[5]: expected a system call name such as "ptrace" (lowercase letters, digits and '_'), got ""
