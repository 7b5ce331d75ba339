return {id = "hostile.loop_close", version = "1.0.0", entry = "attack",
        description = "A timeout caught by a to-be-closed variable whose __close loops"}
