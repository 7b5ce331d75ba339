return {id = "hostile.ptrace_host", version = "1.0.0", entry = "attack",
        description = "ptrace(PTRACE_ATTACH) of the host process"}
