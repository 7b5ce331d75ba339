return {id = "hostile.error_tostring_loop", version = "1.0.0", entry = "attack",
        description = "An error object whose __tostring loops forever (the host formats errors)"}
