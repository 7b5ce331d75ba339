return {id = "hostile.block_sleep", version = "1.0.0", entry = "attack",
        description = "Blocks in a child process: os.execute of a long sleep"}
