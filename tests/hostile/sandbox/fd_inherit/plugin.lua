return {id = "hostile.fd_inherit", version = "1.0.0", entry = "attack",
        description = "Looks for descriptors of the host other than 0-3 (its listener, its files)"}
