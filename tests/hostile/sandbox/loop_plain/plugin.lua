return {id = "hostile.loop_plain", version = "1.0.0", entry = "attack",
        description = "An infinite loop"}
