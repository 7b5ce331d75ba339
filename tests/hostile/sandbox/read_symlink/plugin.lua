return {id = "hostile.read_symlink", version = "1.0.0", entry = "attack",
        description = "Reads the host key through a symlink planted in an allowed directory"}
