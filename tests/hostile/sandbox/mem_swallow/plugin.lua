return {id = "hostile.mem_swallow", version = "1.0.0", entry = "attack",
        description = "A memory bomb that catches the refusal with pcall and asks again"}
