return {id = "hostile.read_shadow", version = "1.0.0", entry = "attack",
        description = "Reads /etc/shadow"}
