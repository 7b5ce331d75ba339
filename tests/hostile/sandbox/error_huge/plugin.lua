return {id = "hostile.error_huge", version = "1.0.0", entry = "attack",
        description = "An error whose message is huge and whose value is cyclic"}
