return {id = "hostile.result_huge", version = "1.0.0", entry = "attack",
        description = "A result larger than the wire allows (64 MiB)"}
