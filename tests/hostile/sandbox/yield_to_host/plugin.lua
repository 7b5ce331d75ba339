return {id = "hostile.yield_to_host", version = "1.0.0", entry = "attack",
        description = "A yield from the top of the call, into whatever runs it"}
