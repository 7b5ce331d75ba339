return {id = "hostile.read_host_key", version = "1.0.0", entry = "attack",
        description = "Reads the host's private key (a fake one, world-readable, outside allowed_paths)"}
