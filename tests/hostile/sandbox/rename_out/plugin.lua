return {id = "hostile.rename_out", version = "1.0.0", entry = "attack",
        description = "Moves a file from the writable directory to outside (rename)"}
