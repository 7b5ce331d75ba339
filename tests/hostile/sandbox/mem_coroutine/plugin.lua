return {id = "hostile.mem_coroutine", version = "1.0.0", entry = "attack",
        description = "A memory bomb in many coroutines, each with its own stack"}
