return {id = "hostile.mem_string", version = "1.0.0", entry = "attack",
        description = "A memory bomb: a string that doubles forever"}
