return {id = "hostile.hold_pool", version = "1.0.0", entry = "attack",
        description = "Holds the pool: a call that loops while other calls wait"}
