return {id = "hostile.die_mid_call", version = "1.0.0", entry = "attack",
        description = "A worker that dies in the middle of a call (os.exit)"}
