return {id = "hostile.result_cyclic", version = "1.0.0", entry = "attack",
        description = "A cyclic result"}
