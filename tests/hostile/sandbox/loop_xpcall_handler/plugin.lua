return {id = "hostile.loop_xpcall_handler", version = "1.0.0", entry = "attack",
        description = "A timeout caught by xpcall whose handler loops forever"}
