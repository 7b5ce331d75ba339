return {id = "hostile.write_symlink", version = "1.0.0", entry = "attack",
        description = "Writes through a symlink in the writable directory that points outside"}
