return {id = "hostile.loop_lpeg", version = "1.0.0", entry = "attack",
        description = "A loop inside C: an LPeg grammar that backtracks exponentially"}
