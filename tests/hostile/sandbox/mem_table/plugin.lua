return {id = "hostile.mem_table", version = "1.0.0", entry = "attack",
        description = "A memory bomb: a table that grows forever"}
