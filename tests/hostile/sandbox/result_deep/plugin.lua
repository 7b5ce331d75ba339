return {id = "hostile.result_deep", version = "1.0.0", entry = "attack",
        description = "A result nested 10000 deep"}
