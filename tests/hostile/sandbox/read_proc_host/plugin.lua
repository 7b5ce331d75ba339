return {id = "hostile.read_proc_host", version = "1.0.0", entry = "attack",
        description = "Reads the host's memory and environment through /proc/<host pid>"}
