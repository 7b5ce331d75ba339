return {id = "hostile.write_readonly", version = "1.0.0", entry = "attack",
        description = "Writes into an allowed (read-only) path with allow_file_write = false"}
