return {id = "hostile.write_outside", version = "1.0.0", entry = "attack",
        description = "Writes a file outside writable_paths"}
