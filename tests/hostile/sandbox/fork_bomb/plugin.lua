return {id = "hostile.fork_bomb", version = "1.0.0", entry = "attack",
        description = "A fork bomb from os.execute (allow_subprocess = false)"}
