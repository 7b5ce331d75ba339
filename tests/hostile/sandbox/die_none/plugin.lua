return {id = "hostile.die_none", version = "1.0.0", entry = "attack",
        description = "os.exit at NONE: would take the host down"}
