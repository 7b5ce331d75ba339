return {id = "hostile.loop_pcall", version = "1.0.0", entry = "attack",
        description = "An infinite loop that catches the timeout with pcall and loops on"}
