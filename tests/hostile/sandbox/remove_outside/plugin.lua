return {id = "hostile.remove_outside", version = "1.0.0", entry = "attack",
        description = "Deletes a file outside writable_paths"}
