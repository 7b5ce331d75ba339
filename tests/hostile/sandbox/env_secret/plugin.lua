return {id = "hostile.env_secret", version = "1.0.0", entry = "attack",
        description = "Reads the host's environment (a secret the host has in its env)"}
