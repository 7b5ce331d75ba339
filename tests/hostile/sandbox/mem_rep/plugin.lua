return {id = "hostile.mem_rep", version = "1.0.0", entry = "attack",
        description = "A memory bomb: one string.rep of 1 TiB"}
