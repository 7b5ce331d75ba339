return {id = "hostile.fd_exhaust", version = "1.0.0", entry = "attack",
        description = "fd exhaustion: opens files until the limit"}
