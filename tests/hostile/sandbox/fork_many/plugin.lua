return {id = "hostile.fork_many", version = "1.0.0", entry = "attack",
        description = "Many processes (allow_subprocess = true): the pids limit must bite"}
