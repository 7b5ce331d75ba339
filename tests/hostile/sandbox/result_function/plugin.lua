return {id = "hostile.result_function", version = "1.0.0", entry = "attack",
        description = "A function and a coroutine as results"}
